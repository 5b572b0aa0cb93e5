defmodule SnakepitBridge.Test.RealShowcaseAdapter do
  @moduledoc """
  The adapter of the real showcase worker (`examples/showcase_worker.rs`) in the suite in a real
  snakepit application (test/real_snakepit/): its executable is found or built by cargo when
  the suite starts (`SnakepitBridge.Test.RealSnakepit.worker!/1`) and read from
  `config :snakepit_bridge, SnakepitBridge.Test.RealShowcaseAdapter, executable: ...`.
  """
  use SnakepitBridge.Adapter, otp_app: :snakepit_bridge
end

defmodule SnakepitBridge.Test.RealShowcaseGrpcAdapter do
  @moduledoc """
  The showcase worker's adapter with `transport: :grpc`: every call over snakepit's own gRPC
  client, for the suite that runs each call through both lanes (test/real_snakepit/lane_test.exs).
  """
  use SnakepitBridge.Adapter, otp_app: :snakepit_bridge, transport: :grpc
end

defmodule SnakepitBridge.Test.RealPayloadAdapter do
  @moduledoc """
  The adapter of a second Rust worker, `bench/payload_worker.rs` (the `payload_worker`
  example), for two pools of two different workers side by side.
  """
  use SnakepitBridge.Adapter, otp_app: :snakepit_bridge
end

defmodule SnakepitBridge.Test.RealPayload do
  @moduledoc """
  Bindings of the payload worker's tools, from its own `--snakepit-describe` output
  (test/real_snakepit/fixtures/payload_worker_tools.json; the suite fails when it is out of
  date).
  """
  use SnakepitBridge.Tools,
    manifest: "test/real_snakepit/fixtures/payload_worker_tools.json",
    pool: :payload
end

defmodule SnakepitBridge.Test.RealSnakepit do
  @moduledoc """
  The real snakepit application of the suite in test/real_snakepit/: the Rust workers (built by
  cargo, or given by environment variables), snakepit's configuration for their pools, and
  bounded waits on what snakepit does asynchronously.

  Workers:

    * the showcase worker: `$SNAKEPIT_BRIDGE_SHOWCASE_WORKER`, or
      `cargo build --example showcase_worker` from the repository root;
    * the payload worker: `$SNAKEPIT_BRIDGE_PAYLOAD_WORKER`, or
      `cargo build --example payload_worker`.

  cargo is run once per test VM with `--message-format=json` (so `CARGO_TARGET_DIR` and
  everything else cargo reads are respected) and the executables' paths are read from its
  `compiler-artifact` messages; `SNAKEPIT_BRIDGE_CARGO_TIMEOUT_MS` bounds it (15 minutes by
  default).

  Pools (`pools/0`), all started through `SnakepitBridge.pool_config/2` and
  `SnakepitBridge.snakepit_config/2`:

    * `:showcase`, 2 showcase workers (the default pool of `SnakepitBridge.Test.RealShowcase`);
    * `:solo`, 1 showcase worker, where a test must know which worker serves a call
      (telemetry controls, calls that must not reach the worker);
    * `:solo_grpc`, 1 showcase worker driven over snakepit's gRPC client (`transport: :grpc`),
      beside `:solo` on the Unix-socket lane;
    * `:verified`, 1 showcase worker started with `--verify-elixir-tools`;
    * `:payload`, 1 payload worker, with `payload_args/0` and `payload_env/0`.

  The showcase pools register `SnakepitBridge.Test.DemoElixirTools` for their workers
  (`elixir_tools:`), with no hand registration.
  """

  import ExUnit.Assertions

  alias Snakepit.Pool.ProcessRegistry
  alias Snakepit.Telemetry.GrpcStream

  @root Path.expand("../../..", __DIR__)

  @workers %{
    showcase: %{
      example: "showcase_worker",
      env: "SNAKEPIT_BRIDGE_SHOWCASE_WORKER",
      adapter: SnakepitBridge.Test.RealShowcaseAdapter
    },
    showcase_grpc: %{
      example: "showcase_worker",
      env: "SNAKEPIT_BRIDGE_SHOWCASE_WORKER",
      adapter: SnakepitBridge.Test.RealShowcaseGrpcAdapter
    },
    payload: %{
      example: "payload_worker",
      env: "SNAKEPIT_BRIDGE_PAYLOAD_WORKER",
      adapter: SnakepitBridge.Test.RealPayloadAdapter
    }
  }

  @ready_timeout 60_000

  @doc "The pools of the suite's application."
  def pools do
    [
      SnakepitBridge.pool_config(:showcase,
        adapter: SnakepitBridge.Test.RealShowcaseAdapter,
        pool_size: 2,
        elixir_tools: [SnakepitBridge.Test.DemoElixirTools]
      ),
      SnakepitBridge.pool_config(:solo,
        adapter: SnakepitBridge.Test.RealShowcaseAdapter,
        pool_size: 1,
        elixir_tools: [SnakepitBridge.Test.DemoElixirTools]
      ),
      # The same worker as :solo, every call over snakepit's gRPC client (transport: :grpc).
      SnakepitBridge.pool_config(:solo_grpc,
        adapter: SnakepitBridge.Test.RealShowcaseGrpcAdapter,
        pool_size: 1,
        elixir_tools: [SnakepitBridge.Test.DemoElixirTools]
      ),
      # Its worker checks the DemoTools trait against the tools of its start-up session before
      # it serves (showcase_worker --verify-elixir-tools): the pool starts only if they match.
      SnakepitBridge.pool_config(:verified,
        adapter: SnakepitBridge.Test.RealShowcaseAdapter,
        pool_size: 1,
        args: ["--verify-elixir-tools"],
        elixir_tools: [SnakepitBridge.Test.DemoElixirTools]
      ),
      SnakepitBridge.pool_config(:payload,
        adapter: SnakepitBridge.Test.RealPayloadAdapter,
        pool_size: 1,
        args: payload_args(),
        env: payload_env()
      )
    ]
  end

  @doc "The `:payload` pool's worker arguments (a Rust worker ignores flags it does not know)."
  def payload_args, do: ["--snakepit-bridge-test-pool", "payload"]

  @doc "The `:payload` pool's extra environment."
  def payload_env, do: [{"SNAKEPIT_BRIDGE_TEST_POOL", "payload"}]

  @doc """
  Makes sure the snakepit application runs with `pools/0`, every worker of every pool up and
  its telemetry stream registered: (re)starts the application only when it does not run with
  them (the first module of the suite, or after a test stopped it).
  """
  def ensure_started! do
    running? =
      Process.whereis(Snakepit.Pool) != nil and
        :persistent_term.get({__MODULE__, :configured}, false) and
        Application.get_env(:snakepit, :pools) == pools()

    if not running?, do: restart!()
    _workers = await_pools!()
    :ok
  end

  @doc """
  Sends `{:elixir_call, fun, args}` to the calling process for each call of a function of
  `module` (a module of Elixir tools) in any process, until the test exits: proof that a
  call ran in Elixir, and with which arguments.
  """
  def trace_calls!(module) do
    tracer = self()
    forward = spawn_link(fn -> forward_traces(tracer) end)
    :erlang.trace_pattern({module, :_, :_}, true, [:local])
    :erlang.trace(:all, true, [:call, {:tracer, forward}])

    ExUnit.Callbacks.on_exit(fn ->
      :erlang.trace(:all, false, [:call])
      :erlang.trace_pattern({module, :_, :_}, false, [:local])
    end)
  end

  defp forward_traces(tracer) do
    receive do
      {:trace, _pid, :call, {_module, fun, args}} ->
        if not String.starts_with?(Atom.to_string(fun), "__"),
          do: send(tracer, {:elixir_call, fun, args})

        forward_traces(tracer)
    end
  end

  @doc "Stops snakepit, configures it for `pools/0` and starts it again (bounded)."
  def restart! do
    case start_pools(pools()) do
      :ok ->
        :ok

      other ->
        flunk("snakepit's pools did not get ready in #{@ready_timeout} ms: #{inspect(other)}")
    end
  end

  @doc """
  Stops snakepit, configures it for `pool_configs` and starts it again: what
  `Snakepit.Pool.await_ready/2` answers (bounded), or `{:exit, reason}` when the pools went down
  while it waited. The next `ensure_started!/0` restores `pools/0`.
  """
  def start_pools(pool_configs) do
    configure_workers!()
    _ = Application.stop(:snakepit)

    # snakepit reads its configuration when its application starts (lib/snakepit/application.ex
    # start/2, lib/snakepit/config.ex). :data_dir, :instance_name and :instance_token come from
    # config/config.exs, one per test VM.
    for {key, value} <- SnakepitBridge.snakepit_config(pool_configs) do
      Application.put_env(:snakepit, key, value)
    end

    {:ok, _} = Application.ensure_all_started(:snakepit)
    :persistent_term.put({__MODULE__, :configured}, true)

    try do
      Snakepit.Pool.await_ready(Snakepit.Pool, @ready_timeout)
    catch
      :exit, reason -> {:exit, reason}
    end
  end

  @doc "Waits (bounded) until every pool has all its workers, each with its telemetry stream."
  def await_pools!(timeout \\ @ready_timeout) do
    expected = Map.new(pools(), &{&1.name, &1.pool_size})

    poll!(timeout, "every pool full (#{inspect(expected)}) with its telemetry streams", fn ->
      workers = Map.new(expected, fn {name, _} -> {name, workers(name)} end)
      streams = GrpcStream.list_streams() |> Enum.map(& &1.worker_id) |> MapSet.new()

      full? =
        Enum.all?(expected, fn {name, size} ->
          ids = workers[name]
          length(ids) == size and Enum.all?(ids, &MapSet.member?(streams, &1))
        end)

      if full?, do: {:ok, workers}, else: {:retry, %{workers: workers, streams: streams}}
    end)
  end

  @doc "The worker ids of pool `name` (snakepit's `Snakepit.Pool.list_workers/2`)."
  def workers(name) do
    case Snakepit.Pool.list_workers(Snakepit.Pool, name) do
      ids when is_list(ids) -> ids
      _error -> []
    end
  end

  @doc "The OS pid of worker `worker_id`, from snakepit's ProcessRegistry."
  def os_pid!(worker_id) do
    case ProcessRegistry.get_worker_info(worker_id) do
      {:ok, %{process_pid: pid}} when is_integer(pid) -> pid
      other -> flunk("no OS pid for worker #{worker_id} in ProcessRegistry: #{inspect(other)}")
    end
  end

  @doc "The session id of worker `worker_id` (`Snakepit.GRPCWorker.get_session_id/1`)."
  def session_id!(worker_id) do
    {:ok, pid} = Snakepit.Pool.Registry.get_worker_pid(worker_id)
    {:ok, session_id} = Snakepit.GRPCWorker.get_session_id(pid)
    session_id
  end

  @doc "Whether OS process `pid` is alive (a zombie counts as gone)."
  def os_alive?(pid) do
    case File.read("/proc/#{pid}/stat") do
      {:ok, stat} ->
        # state is the field after the parenthesised command name
        [_, after_name] = String.split(stat, ") ", parts: 2)
        not String.starts_with?(after_name, ["Z", "X"])

      {:error, _} ->
        false
    end
  end

  @doc """
  The OS pids of live processes launched with `--snakepit-instance-name instance` (snakepit
  gives it to every worker it launches, lib/snakepit/worker/configuration.ex).
  """
  def instance_processes(instance) do
    for "/proc/" <> rest = dir <- Path.wildcard("/proc/[0-9]*"),
        pid = String.to_integer(rest),
        {:ok, cmdline} <- [File.read(Path.join(dir, "cmdline"))],
        args = String.split(cmdline, <<0>>, trim: true),
        instance_flag?(args, instance),
        os_alive?(pid),
        do: pid
  end

  defp instance_flag?(["--snakepit-instance-name", instance | _], instance), do: true
  defp instance_flag?([_ | rest], instance), do: instance_flag?(rest, instance)
  defp instance_flag?([], _instance), do: false

  @doc """
  Calls `fun` until it returns `{:ok, value}` (returning `value`), every 20 ms, for at most
  `timeout` ms; then fails with `what` and the last `{:retry, state}`.
  """
  def poll!(timeout, what, fun) do
    deadline = System.monotonic_time(:millisecond) + timeout
    do_poll(deadline, timeout, what, fun)
  end

  defp do_poll(deadline, timeout, what, fun) do
    case fun.() do
      {:ok, value} ->
        value

      {:retry, state} ->
        if System.monotonic_time(:millisecond) >= deadline do
          flunk("timed out after #{timeout} ms waiting for #{what}; last seen: #{inspect(state)}")
        else
          Process.sleep(20)
          do_poll(deadline, timeout, what, fun)
        end
    end
  end

  @doc """
  The executable of worker `kind` (`:showcase` or `:payload`): its environment variable when
  set, otherwise built by cargo (once per VM, both workers in one cargo run).
  """
  def worker!(kind) do
    %{env: env, example: example} = Map.fetch!(@workers, kind)

    case System.get_env(env) do
      path when path not in [nil, ""] ->
        path = Path.expand(path)

        if not File.regular?(path) do
          flunk("#{env}=#{path}: no such file (unset it to let cargo build #{example})")
        end

        path

      _ ->
        Map.fetch!(cargo_built!(), example)
    end
  end

  @doc """
  The `snakepit-tools` CLI: `$SNAKEPIT_BRIDGE_CLI` when set, otherwise built by cargo
  (`cargo build -p snakepit-bridge-cli --bin snakepit-tools`, once per VM).
  """
  def cli! do
    case System.get_env("SNAKEPIT_BRIDGE_CLI") do
      path when path not in [nil, ""] ->
        Path.expand(path)

      _ ->
        case :persistent_term.get({__MODULE__, :cli}, nil) do
          nil ->
            %{"snakepit-tools" => exe} =
              cargo_build!(
                ["-p", "snakepit-bridge-cli", "--bin", "snakepit-tools"],
                ["snakepit-tools"]
              )

            :persistent_term.put({__MODULE__, :cli}, exe)
            exe

          exe ->
            exe
        end
    end
  end

  @doc "The repository's root (the Cargo workspace)."
  def root, do: @root

  @doc "Puts each worker's executable into its adapter's configuration."
  def configure_workers! do
    for {kind, %{adapter: adapter}} <- @workers do
      Application.put_env(:snakepit_bridge, adapter, executable: worker!(kind))
    end

    :ok
  end

  defp cargo_built! do
    case :persistent_term.get({__MODULE__, :cargo}, nil) do
      nil ->
        examples = @workers |> Enum.map(fn {_, w} -> w.example end) |> Enum.uniq()
        built = cargo_build!(Enum.flat_map(examples, &["--example", &1]), examples)
        :persistent_term.put({__MODULE__, :cargo}, built)
        built

      built ->
        built
    end
  end

  defp cargo_build!(targets, names) do
    cargo =
      System.find_executable("cargo") ||
        flunk(
          "cargo is not on PATH: install Rust, or give the workers as " <>
            "SNAKEPIT_BRIDGE_SHOWCASE_WORKER and SNAKEPIT_BRIDGE_PAYLOAD_WORKER"
        )

    args = ["build", "--message-format=json"] ++ targets

    timeout = String.to_integer(System.get_env("SNAKEPIT_BRIDGE_CARGO_TIMEOUT_MS", "900000"))
    command = Enum.join(["cargo" | args], " ")

    # cargo's progress goes to stderr (left on the terminal), its JSON messages to stdout.
    port =
      Port.open({:spawn_executable, cargo}, [
        :binary,
        :exit_status,
        {:line, 1_000_000},
        {:args, args},
        {:cd, @root}
      ])

    deadline = System.monotonic_time(:millisecond) + timeout
    {status, lines} = collect_cargo(port, deadline, [], "")

    if status != 0 do
      flunk("`#{command}` (in #{@root}) exited with #{inspect(status)}; see its output above")
    end

    built =
      for line <- lines,
          {:ok, %{"reason" => "compiler-artifact", "executable" => exe} = msg} <-
            [Jason.decode(line)],
          is_binary(exe),
          msg["target"]["name"] in names,
          into: %{},
          do: {msg["target"]["name"], exe}

    for name <- names, not Map.has_key?(built, name) do
      flunk("`#{command}` built no executable for #{name}")
    end

    built
  end

  defp collect_cargo(port, deadline, lines, partial) do
    remaining = max(deadline - System.monotonic_time(:millisecond), 0)

    receive do
      {^port, {:data, {:eol, chunk}}} ->
        collect_cargo(port, deadline, [partial <> chunk | lines], "")

      {^port, {:data, {:noeol, chunk}}} ->
        collect_cargo(port, deadline, lines, partial <> chunk)

      {^port, {:exit_status, status}} ->
        {status, Enum.reverse(lines)}
    after
      remaining ->
        case Port.info(port, :os_pid) do
          {:os_pid, pid} -> System.cmd("kill", ["-9", to_string(pid)])
          nil -> :ok
        end

        flunk("cargo did not finish within its bound (SNAKEPIT_BRIDGE_CARGO_TIMEOUT_MS)")
    end
  end

  @doc """
  Attaches a `:telemetry` handler for `events` that sends `{:telemetry, event, measurements,
  metadata}` to the calling process; detached when the test exits.
  """
  def attach_telemetry!(events) do
    id = {__MODULE__, make_ref()}
    :ok = :telemetry.attach_many(id, events, &__MODULE__.send_event/4, self())
    ExUnit.Callbacks.on_exit(fn -> :telemetry.detach(id) end)
    id
  end

  @doc false
  def send_event(event, measurements, metadata, pid) do
    send(pid, {:telemetry, event, measurements, metadata})
  end
end
