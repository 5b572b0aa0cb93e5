defmodule SnakepitBridge.Cluster.Member do
  @moduledoc false
  # One pool of this node advertised to the cluster: while snakepit runs the pool, this process
  # is a member of the pool's `:pg` group, answers `info/2` (node, pool, size, the worker's
  # tool signatures, load) and sends its load and ready workers to every node's Directory
  # (this node's too) when they change.
  #
  # The worker's tools are read from the worker binary itself (`--snakepit-describe`, with the
  # pool's adapter and arguments), once: what the pool runs, not what a file says it runs.
  # When snakepit stops (Snakepit.Pool goes down) the member leaves the group and waits for
  # the pool to come back.

  use GenServer
  require Logger

  alias SnakepitBridge.{Describe, Manifest}

  @check_interval 500
  @load_interval 200

  @doc false
  def start_link({scope, pool}),
    do: GenServer.start_link(__MODULE__, {scope, pool})

  @doc false
  def child_spec({_scope, pool} = arg),
    do: %{id: {__MODULE__, pool}, start: {__MODULE__, :start_link, [arg]}}

  @doc false
  # The `:pg` group of pool `pool`.
  def group(pool), do: {:snakepit_bridge_pool, pool}

  @doc false
  def info(member, timeout), do: GenServer.call(member, :info, timeout)

  # `{load, ready}`: the calls running or queued on this node's pool `pool` and its workers,
  # from snakepit's own count (the call Snakepit.Pool.get_stats/2 makes, with a timeout,
  # lib/snakepit/pool/pool.ex). A pool that does not answer has no worker ready.
  @doc false
  def local_load(pool, timeout \\ 5_000) do
    case GenServer.call(Snakepit.Pool, {:get_stats, pool}, timeout) do
      %{busy: busy, queued: queued, workers: workers} -> {busy + queued, workers}
      _other -> {0, 0}
    end
  catch
    :exit, _ -> {0, 0}
  end

  @impl true
  def init({scope, pool}) do
    send(self(), :check)

    {:ok,
     %{
       scope: scope,
       pool: pool,
       info: nil,
       pool_ref: nil,
       load: {0, 0},
       described: nil,
       failure: nil
     }}
  end

  @impl true
  # node() now: a node made distributed after the member joined has a new name.
  def handle_call(:info, _from, state),
    do:
      {:reply,
       %{state.info | node: node(), load: elem(state.load, 0), ready: elem(state.load, 1)}, state}

  @impl true
  def handle_info(:check, %{pool_ref: nil} = state) do
    with pid when is_pid(pid) <- Process.whereis(Snakepit.Pool),
         {:ok, config} <- pool_config(state.pool),
         {:ok, tools, worker} <- describe(state, config) do
      info = %{
        node: node(),
        pool: state.pool,
        pool_size: Map.get(config, :pool_size, 1),
        tools: tools,
        worker: worker,
        load: 0,
        ready: 0
      }

      :ok = :pg.join(state.scope, group(state.pool), self())
      send(self(), :load)

      {:noreply,
       %{state | info: info, pool_ref: Process.monitor(pid), described: {tools, worker}}}
    else
      {:error, reason} ->
        # Said once per reason: the check repeats.
        if reason != state.failure do
          Logger.error(
            "snakepit_bridge: pool #{inspect(state.pool)} is not advertised to the cluster: " <>
              "#{reason}; retrying every " <>
              "#{@check_interval} ms"
          )
        end

        Process.send_after(self(), :check, @check_interval)
        {:noreply, %{state | failure: reason}}

      _not_yet ->
        Process.send_after(self(), :check, @check_interval)
        {:noreply, state}
    end
  end

  def handle_info(:check, state), do: {:noreply, state}

  def handle_info(:load, %{pool_ref: nil} = state), do: {:noreply, state}

  def handle_info(:load, state) do
    load = local_load(state.pool)

    if load != state.load do
      {busy, ready} = load

      for directory <- :pg.get_members(state.scope, :directories),
          do: send(directory, {:member_load, self(), busy, ready})
    end

    Process.send_after(self(), :load, @load_interval)
    {:noreply, %{state | load: load}}
  end

  def handle_info({:DOWN, ref, :process, _pid, _reason}, %{pool_ref: ref} = state) do
    :ok = :pg.leave(state.scope, group(state.pool), self())
    Process.send_after(self(), :check, @check_interval)
    {:noreply, %{state | pool_ref: nil}}
  end

  def handle_info(_other, state), do: {:noreply, state}

  defp pool_config(pool) do
    case Enum.find(Application.get_env(:snakepit, :pools, []), &(&1[:name] == pool)) do
      nil -> {:error, "config :snakepit, pools: [...] has no pool #{inspect(pool)}"}
      config -> {:ok, config}
    end
  end

  # The worker's tool signatures, described once (snakepit restarting the pool runs the same
  # binary; a new binary means a new release, and a new member).
  defp describe(%{described: {tools, worker}}, _config), do: {:ok, tools, worker}

  defp describe(_state, config) do
    adapter = Map.get(config, :adapter_module, SnakepitBridge.Adapter)

    with {:ok, exe, args} <- launch(adapter, config),
         {:ok, manifest, _text} <- Describe.manifest(exe, args) do
      {:ok, Map.new(manifest.tools, &{&1.name, Manifest.signature(&1)}), manifest.worker}
    else
      {:error, reason} -> {:error, "its worker's tools could not be read (#{reason})"}
    end
  end

  defp launch(adapter, config) do
    exe = adapter.executable_path()
    args = Map.get_lazy(config, :adapter_args, fn -> adapter.script_args() end)
    {:ok, exe, args}
  rescue
    error -> {:error, Exception.message(error)}
  end
end
