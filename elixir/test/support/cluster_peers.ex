defmodule SnakepitBridge.Test.ClusterPeers do
  @moduledoc """
  Peer BEAM nodes on this machine for the cluster tests (test/real_snakepit/cluster_test.exs),
  started with OTP's `:peer` over loopback distribution (`127.0.0.1`, epmd bound to it), each
  running real snakepit with its own instance name, data and pools of the Rust workers, and
  `SnakepitBridge.Cluster`.

  The test VM becomes a distributed node (`distribute!/0`) on first use.
  """

  import ExUnit.Assertions

  alias SnakepitBridge.Test.RealSnakepit

  @boot_timeout 120_000

  @doc "Makes this VM a node of a loopback cluster (epmd started on 127.0.0.1 if none runs)."
  def distribute! do
    if not Node.alive?() do
      epmd = System.find_executable("epmd") || flunk("epmd is not on PATH (it comes with OTP)")
      {_, 0} = System.cmd(epmd, ["-daemon"], env: [{"ERL_EPMD_ADDRESS", "127.0.0.1"}])

      name = :"sb_main_#{System.pid()}@127.0.0.1"

      case Node.start(name, :longnames) do
        {:ok, _} -> :ok
        {:error, reason} -> flunk("could not make this VM the node #{name}: #{inspect(reason)}")
      end
    end

    :ok
  end

  @doc """
  Starts peer node `name` with snakepit running `pools` (maps from
  `SnakepitBridge.pool_config/2`) and `SnakepitBridge.Cluster` advertising those with
  `cluster: true`. Returns `{peer_pid, node}`; the peer is stopped when the test (or the
  module, from `setup_all`) ends, or, with `cleanup: :manual` (outside ExUnit), by
  `stop_peer/2`.
  """
  def start_peer!(name, pools, opts \\ []) do
    distribute!()
    RealSnakepit.configure_workers!()

    paths = Enum.flat_map(:code.get_path(), &[~c"-pa", &1])

    {:ok, peer, node} =
      :peer.start(%{
        name: :"sb_#{name}_#{System.pid()}",
        host: ~c"127.0.0.1",
        longnames: true,
        # A peer halted on purpose is no partition to guard against (OTP 25's `global`).
        args:
          [~c"-setcookie", Atom.to_charlist(Node.get_cookie())] ++
            [~c"-kernel", ~c"prevent_overlapping_partitions", ~c"false" | paths],
        wait_boot: 30_000
      })

    if Keyword.get(opts, :cleanup, :on_exit) == :on_exit,
      do: ExUnit.Callbacks.on_exit(fn -> stop_peer(peer, node) end)

    adapters =
      for {key, value} <- Application.get_all_env(:snakepit_bridge),
          is_atom(key),
          String.starts_with?(Atom.to_string(key), "Elixir."),
          do: {key, value}

    case :erpc.call(node, __MODULE__, :boot, [pools, adapters], @boot_timeout) do
      :ok -> {peer, node}
      other -> flunk("peer #{node} did not start snakepit: #{inspect(other)}")
    end
  end

  @doc """
  Stops peer `node` at once, as a crash would (`:erlang.halt/0` there, then its workers'
  OS processes are killed, as snakepit's own cleanup would on the next start).
  """
  def halt_peer!(peer, node) do
    instance = :erpc.call(node, Application, :get_env, [:snakepit, :instance_name])
    :erpc.cast(node, :erlang, :halt, [])
    ref = Process.monitor(peer)

    receive do
      {:DOWN, ^ref, :process, _, _} -> :ok
    after
      10_000 -> flunk("peer #{node} did not stop")
    end

    for pid <- RealSnakepit.instance_processes(instance),
        do: System.cmd("kill", ["-9", Integer.to_string(pid)], stderr_to_stdout: true)

    :ok
  end

  @doc "Stops peer `node` and kills what is left of its workers."
  def stop_peer(peer, node) do
    instance =
      try do
        :erpc.call(node, Application, :get_env, [:snakepit, :instance_name], 5_000)
      catch
        _, _ -> nil
      end

    try do
      :peer.stop(peer)
    catch
      _, _ -> :ok
    end

    if instance do
      for pid <- RealSnakepit.instance_processes(instance),
          do: System.cmd("kill", ["-9", Integer.to_string(pid)], stderr_to_stdout: true)
    end

    :ok
  end

  @doc false
  # Runs on the peer: Elixir, this package's configuration, snakepit with `pools`, and
  # SnakepitBridge.Cluster (not linked to the calling erpc process).
  def boot(pools, adapters) do
    {:ok, _} = Application.ensure_all_started(:elixir)
    {:ok, _} = Application.ensure_all_started(:logger)
    Logger.configure(level: :warning)
    # snakepit's OpenTelemetry exporter needs it, and does not start it (the test VM has it
    # started by mix).
    {:ok, _} = Application.ensure_all_started(:inets)

    instance = "snakepit_bridge_test_#{System.pid()}"

    for {key, value} <- adapters, do: Application.put_env(:snakepit_bridge, key, value)

    for {key, value} <-
          SnakepitBridge.snakepit_config(pools,
            data_dir: Path.join(System.tmp_dir!(), "snakepit_bridge_test"),
            instance_name: instance,
            instance_token: instance
          ),
        do: Application.put_env(:snakepit, key, value)

    {:ok, _} = Application.ensure_all_started(:snakepit)
    :ok = Snakepit.Pool.await_ready(Snakepit.Pool, 60_000)
    {:ok, cluster} = SnakepitBridge.Cluster.start_link()
    Process.unlink(cluster)
    :ok
  end

  @doc """
  Waits (bounded) until `pool`'s group, as this node sees it, has members on exactly `nodes`
  (sorted).
  """
  def await_members!(pool, nodes) do
    expected = Enum.sort(nodes)

    RealSnakepit.poll!(30_000, "members of #{inspect(pool)} on #{inspect(expected)}", fn ->
      seen = pool |> SnakepitBridge.Cluster.members() |> Enum.map(& &1.node) |> Enum.sort()
      if seen == expected, do: {:ok, seen}, else: {:retry, seen}
    end)
  end

  @doc "The number of requests pool `pool` of `node` has served (snakepit's own count)."
  def requests(node, pool) do
    case :erpc.call(node, Snakepit.Pool, :get_stats, [Snakepit.Pool, pool], 5_000) do
      %{requests: requests} -> requests
      other -> flunk("no stats for pool #{inspect(pool)} on #{node}: #{inspect(other)}")
    end
  end

  @doc """
  Runs `fun` and returns `{result, node}`: the one of `nodes` whose pool `pool` served it
  (by snakepit's request counts before and after; calls must not overlap).
  """
  def served_by(nodes, pool, fun) do
    before = Map.new(nodes, &{&1, requests(&1, pool)})
    result = fun.()
    after_ = Map.new(nodes, &{&1, requests(&1, pool)})

    case Enum.filter(nodes, &(after_[&1] > before[&1])) do
      [node] -> {result, node}
      other -> flunk("expected one node to serve the call, got #{inspect(other)}")
    end
  end
end

defmodule SnakepitBridge.Test.ChangedPing do
  @moduledoc """
  Bindings of a `ping` declared otherwise than the showcase worker's (its `message` an
  integer, test/real_snakepit/fixtures/changed_ping_tools.json): no node's pool matches them.
  """
  use SnakepitBridge.Tools,
    manifest: "test/real_snakepit/fixtures/changed_ping_tools.json",
    pool: :showcase
end
