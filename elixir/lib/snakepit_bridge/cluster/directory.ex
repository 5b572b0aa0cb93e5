defmodule SnakepitBridge.Cluster.Directory do
  @moduledoc false
  # This node's view of the pools' groups: an ETS table, read and written by calling processes
  # without a message to this server, holding
  #
  #   {{:info, member}, info}          what a member advertises (fetched once per member pid)
  #   {{:load, member}, {load, ready}} the calls running or queued there and its workers, as
  #                                    the member last reported them (it reports changes)
  #   {{:inflight, member, ref}, pid}  a call of this node's process `pid` in flight there
  #   {{:warned, node, pool, tool}}    a differing declaration already logged
  #   {{:silent, member}, until}       a member that did not answer `info/2`: passed over until
  #
  # The server joins the `:directories` group (so members can send it their loads) and
  # forgets a member's rows when the member goes away.

  use GenServer
  require Logger

  alias SnakepitBridge.Cluster.Member

  @table __MODULE__
  @info_timeout 5_000
  @silent_for 10_000
  @sweep_interval 1_000
  @live_timeout 100

  @doc false
  def start_link(scope), do: GenServer.start_link(__MODULE__, scope, name: __MODULE__)

  @doc false
  def running?, do: :ets.whereis(@table) != :undefined

  @doc false
  # The members of `pool`'s group that can run `tool` as the caller declares it (`signature`),
  # as router candidates, and the others with why they were left out. Loads are the members'
  # reports (this node's own member reports here too), but with `live_local?` (route
  # :cluster, which prefers this node while it has a free worker) this node's is read now,
  # from snakepit's pool process, waiting for it at most 100 ms.
  def candidates(scope, pool, tool, signature, live_local?) do
    scope
    |> :pg.get_members(Member.group(pool))
    |> Enum.reduce({[], []}, fn member, {ok, left_out} ->
      case candidate(member, pool, tool, signature, live_local?) do
        {:ok, candidate} -> {[candidate | ok], left_out}
        {:left_out, why} -> {ok, [{node(member), why} | left_out]}
      end
    end)
  end

  defp candidate(member, pool, tool, signature, live_local?) do
    with :ok <- connected(node(member)),
         {:ok, info} <- info(member),
         :ok <- compatible(info, pool, tool, signature),
         {:ok, load, ready} <- load(member, pool, live_local? and node(member) == node()) do
      {:ok, %{node: node(member), pid: member, size: ready, load: load}}
    end
  end

  # The member's report, or this node's calls in flight there when that is more (the report
  # lags up to one tick). A pool with no worker ready takes no call.
  defp load(member, pool, live?) do
    {reported, ready} = if live?, do: Member.local_load(pool, @live_timeout), else: lookup(member)

    if ready > 0,
      do: {:ok, max(reported, inflight(member)), ready},
      else: {:left_out, "no worker ready"}
  end

  defp lookup(member) do
    case :ets.lookup(@table, {:load, member}) do
      [{_, value}] -> value
      [] -> {0, 0}
    end
  end

  defp inflight(member),
    do: :ets.select_count(@table, [{{{:inflight, member, :_}, :_}, [], [true]}])

  defp connected(node) do
    if node == node() or node in Node.list(), do: :ok, else: {:left_out, "not connected"}
  end

  defp compatible(info, pool, tool, signature) do
    case Map.fetch(info.tools, tool) do
      {:ok, ^signature} ->
        :ok

      {:ok, _other} ->
        warn_once(
          info,
          pool,
          tool,
          "declares tool `#{tool}` otherwise than the caller's bindings"
        )

      :error ->
        warn_once(info, pool, tool, "has no tool `#{tool}`")
    end
  end

  defp warn_once(info, pool, tool, what) do
    why = "its worker (#{info.worker || "unnamed"}) #{what}"

    if :ets.insert_new(@table, {{:warned, info.node, pool, tool}}) do
      Logger.warning(
        "snakepit_bridge: pool #{inspect(pool)} on node #{info.node} is not chosen for tool " <>
          "`#{tool}`: #{why}; deploy the same worker on every node (or regenerate the bindings " <>
          "from its manifest) for calls to go there"
      )
    end

    {:left_out, why}
  end

  # A member's advertisement, from the table or, the first time, from the member itself.
  defp info(member) do
    case :ets.lookup(@table, {:info, member}) do
      [{_, info}] ->
        {:ok, info}

      [] ->
        if recently_silent?(member), do: {:left_out, "did not answer"}, else: fetch_info(member)
    end
  end

  defp fetch_info(member) do
    info = Member.info(member, @info_timeout)
    :ets.insert(@table, {{:info, member}, info})
    :ets.insert_new(@table, {{:load, member}, {info.load, info.ready}})
    GenServer.cast(__MODULE__, {:watch, member})
    {:ok, info}
  catch
    :exit, reason ->
      # Not asked again for a while: every call would wait for it.
      :ets.insert(@table, {{:silent, member}, now() + @silent_for})
      GenServer.cast(__MODULE__, {:watch, member})
      {:left_out, "did not answer (#{inspect(reason, limit: 5)})"}
  end

  defp recently_silent?(member) do
    case :ets.lookup(@table, {:silent, member}) do
      [{_, until}] -> now() < until
      [] -> false
    end
  end

  defp now, do: System.monotonic_time(:millisecond)

  @doc false
  # Runs `fun` counted as a call in flight on `member`. The row names the calling process,
  # so one killed before it could remove its row is swept by the server.
  def track(member, fun) do
    key = {:inflight, member, make_ref()}
    counted = safely(fn -> :ets.insert(@table, {key, self()}) end)

    try do
      fun.()
    after
      if counted, do: safely(fn -> :ets.delete(@table, key) end)
    end
  end

  # The table goes with this server; a call in flight when it restarts is not counted.
  defp safely(fun) do
    fun.()
  rescue
    ArgumentError -> false
  end

  @impl true
  def init(scope) do
    :ets.new(@table, [
      :named_table,
      :public,
      :set,
      read_concurrency: true,
      write_concurrency: true
    ])

    :ok = :pg.join(scope, :directories, self())
    Process.send_after(self(), :sweep, @sweep_interval)
    {:ok, %{watched: MapSet.new()}}
  end

  @impl true
  def handle_cast({:watch, member}, state) do
    if MapSet.member?(state.watched, member) do
      {:noreply, state}
    else
      Process.monitor(member)
      {:noreply, %{state | watched: MapSet.put(state.watched, member)}}
    end
  end

  @impl true
  def handle_info({:member_load, member, load, ready}, state) do
    :ets.insert(@table, {{:load, member}, {load, ready}})
    {:noreply, state}
  end

  def handle_info(:sweep, state) do
    for {key, pid} <- :ets.match_object(@table, {{:inflight, :_, :_}, :_}),
        not Process.alive?(pid),
        do: :ets.delete(@table, key)

    Process.send_after(self(), :sweep, @sweep_interval)
    {:noreply, state}
  end

  def handle_info({:DOWN, _ref, :process, member, _reason}, state) do
    # A node that comes back with another worker is logged again.
    for [info] <- :ets.match(@table, {{:info, member}, :"$1"}),
        do: :ets.match_delete(@table, {{:warned, info.node, info.pool, :_}})

    for kind <- [:info, :load, :silent], do: :ets.delete(@table, {kind, member})
    :ets.match_delete(@table, {{:inflight, member, :_}, :_})
    {:noreply, %{state | watched: MapSet.delete(state.watched, member)}}
  end

  def handle_info(_other, state), do: {:noreply, state}
end
