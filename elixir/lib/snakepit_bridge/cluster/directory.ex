defmodule SnakepitBridge.Cluster.Directory do
  @moduledoc false
  # This node's view of the pools' groups: an ETS table, read and written by calling processes
  # without a message to this server, holding
  #
  #   {{:info, member}, info}          what a member advertises (fetched once per member pid)
  #   {{:load, member}, load}          the load the member last reported (it reports changes)
  #   {{:inflight, member}, count}     this node's calls in flight on the member
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

  @doc false
  def start_link(scope), do: GenServer.start_link(__MODULE__, scope, name: __MODULE__)

  @doc false
  def running?, do: :ets.whereis(@table) != :undefined

  @doc false
  # The members of `pool`'s group that can run `tool` as the caller declares it (`signature`),
  # as router candidates, and the others with why they were left out. Loads are read only
  # when `loads?` (route :cluster): the local one asks snakepit's pool process.
  def candidates(scope, pool, tool, signature, loads?) do
    scope
    |> :pg.get_members(Member.group(pool))
    |> Enum.reduce({[], []}, fn member, {ok, left_out} ->
      case candidate(member, pool, tool, signature, loads?) do
        {:ok, candidate} -> {[candidate | ok], left_out}
        {:left_out, why} -> {ok, [{node(member), why} | left_out]}
      end
    end)
  end

  defp candidate(member, pool, tool, signature, loads?) do
    with :ok <- connected(node(member)),
         {:ok, info} <- info(member),
         :ok <- compatible(info, pool, tool, signature) do
      load = if loads?, do: load(member, info), else: 0
      {:ok, %{node: node(member), pid: member, size: info.pool_size, load: load}}
    end
  end

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
    :ets.insert_new(@table, {{:load, member}, info.load})
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

  # This node's own member: its pool's load now. Another node's: what it last reported, or
  # this node's calls in flight there when that is more (the report lags up to one tick).
  defp load(member, info) when node(member) == node(), do: Member.local_load(info.pool)

  defp load(member, _info), do: max(lookup(member, :load), lookup(member, :inflight))

  defp lookup(member, kind) do
    case :ets.lookup(@table, {kind, member}) do
      [{_, value}] -> value
      [] -> 0
    end
  end

  @doc false
  # Runs `fun` counted as a call in flight on `member`.
  def track(member, fun) do
    key = {:inflight, member}
    _ = :ets.update_counter(@table, key, 1, {key, 0})

    try do
      fun.()
    after
      _ = :ets.update_counter(@table, key, -1, {key, 1})
    end
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
  def handle_info({:member_load, member, load}, state) do
    :ets.insert(@table, {{:load, member}, load})
    {:noreply, state}
  end

  def handle_info({:DOWN, _ref, :process, member, _reason}, state) do
    for kind <- [:info, :load, :inflight, :silent], do: :ets.delete(@table, {kind, member})
    {:noreply, %{state | watched: MapSet.delete(state.watched, member)}}
  end

  def handle_info(_other, state), do: {:noreply, state}
end
