defmodule SnakepitBridge.RealSnakepit.ElixirToolsTest do
  # Elixir tools declared with SnakepitBridge.ElixirTools in a real snakepit application:
  # registered for every worker of a pool, answering as the hand-registered demo tools do,
  # refusing a wrong parameter from a Rust worker, listed by snakepit's BridgeServer exactly as
  # the manifest written from the code says, checked by a Rust worker at start-up and by a Rust
  # crate's build.
  use ExUnit.Case, async: false

  @moduletag :real_snakepit
  @moduletag timeout: 900_000

  alias Snakepit.Bridge.ToolRegistry
  alias SnakepitBridge.ElixirTools
  alias SnakepitBridge.ElixirTools.Workers
  alias SnakepitBridge.Test.{ChangedDemoElixirTools, DemoElixirTools, TypedElixirTools}
  alias SnakepitBridge.Test.{RealShowcase, RealSnakepit}

  @demo_tools ["calculate_fibonacci", "parse_json", "process_list"]

  setup_all do
    RealSnakepit.ensure_started!()
  end

  defp exposed(session) do
    session |> ToolRegistry.list_exposed_elixir_tools() |> Enum.map(& &1.name) |> Enum.sort()
  end

  defp fresh_session(prefix) do
    session = "#{prefix}-#{System.unique_integer([:positive])}"
    on_exit(fn -> ElixirTools.unregister(session) end)
    session
  end

  defp tmp_dir!(name) do
    dir = Path.join(System.tmp_dir!(), "#{name}-#{System.unique_integer([:positive])}")
    File.mkdir_p!(dir)
    on_exit(fn -> File.rm_rf!(dir) end)
    dir
  end

  test "a pool's elixir_tools are in every worker's session; the start-up session is released" do
    for pool <- [:showcase, :solo, :verified], worker_id <- RealSnakepit.workers(pool) do
      # (other tests may have registered more there by hand: callback_test.exs's late tool)
      assert @demo_tools -- exposed(RealSnakepit.session_id!(worker_id)) == [],
             "#{pool}: #{worker_id}"

      # the :verified worker checked them there before it served (showcase --verify-elixir-tools)
      assert exposed(Workers.startup_session(worker_id)) == [], "#{pool}: #{worker_id}"
    end

    # a pool without elixir_tools gets none
    [payload] = RealSnakepit.workers(:payload)
    assert exposed(RealSnakepit.session_id!(payload)) == []
  end

  test "a worker's tools go with its process; a successor's start-up tools stay" do
    # Workers.register_for/2 is what a starting GRPCWorker runs (Workers.starting/0); here in
    # processes that stand in for two GRPCWorkers of one worker id, one after the other.
    worker_id = "standin_#{System.unique_integer([:positive])}"
    startup = Workers.startup_session(worker_id)
    on_exit(fn -> ElixirTools.unregister(startup) end)

    start = fn session ->
      test = self()

      spawn(fn ->
        worker = %{worker_id: worker_id, pool_name: :standin, session_id: session}
        :ok = Workers.register_for(worker, [DemoElixirTools])
        send(test, {:registered, session})
        receive do: (:stop -> :ok)
      end)
    end

    first = start.("standin-first-#{worker_id}")
    assert_receive {:registered, _}, 5_000
    assert exposed(startup) == @demo_tools
    assert exposed("standin-first-#{worker_id}") == @demo_tools

    # the first dies before it connects: its start-up and its own session are released
    Process.exit(first, :kill)

    RealSnakepit.poll!(5_000, "the first stand-in's tools to be released", fn ->
      case {exposed(startup), exposed("standin-first-#{worker_id}")} do
        {[], []} -> {:ok, :released}
        other -> {:retry, other}
      end
    end)

    # a successor registers under the same worker id while its predecessor is still alive;
    # the predecessor's end leaves the successor's start-up tools alone
    second = start.("standin-second-#{worker_id}")
    assert_receive {:registered, _}, 5_000
    third = start.("standin-third-#{worker_id}")
    assert_receive {:registered, _}, 5_000
    Process.exit(second, :kill)

    RealSnakepit.poll!(5_000, "the second stand-in's session to be released", fn ->
      case exposed("standin-second-#{worker_id}") do
        [] -> {:ok, :released}
        other -> {:retry, other}
      end
    end)

    assert exposed(startup) == @demo_tools
    assert exposed("standin-third-#{worker_id}") == @demo_tools
    Process.exit(third, :kill)

    RealSnakepit.poll!(5_000, "the third stand-in's tools to be released", fn ->
      case {exposed(startup), exposed("standin-third-#{worker_id}")} do
        {[], []} -> {:ok, :released}
        other -> {:retry, other}
      end
    end)
  end

  test "register/2 takes nothing when the session already has one of the tools" do
    session = fresh_session("taken")

    :ok =
      ToolRegistry.register_elixir_tool(session, "parse_json", fn _ -> %{} end, %{
        exposed_to_python: true
      })

    assert {:error, message} = ElixirTools.register(session, [DemoElixirTools])
    assert message =~ ~s(already has the tools "parse_json"; nothing was registered)
    assert exposed(session) == ["parse_json"]

    :ok = ElixirTools.unregister(session)
    assert :ok = ElixirTools.register(session, [DemoElixirTools])
    assert exposed(session) == @demo_tools
  end

  test "the demo tools declared in Elixir answer exactly as host/start.sh's hand-registered ones" do
    # The bundle's host/elixir_tools.exs: snakepit's examples/bidirectional_tools_demo.exs tools,
    # which host/bridge_host.exs registers by hand with this metadata.
    Code.require_file(Path.join(System.fetch_env!("SNAKEPIT_VENDOR"), "host/elixir_tools.exs"))
    # (defined only now: not named in the code, which is compiled before)
    demo = Module.concat(["ElixirTools"])

    by_hand = [
      {"parse_json", Function.capture(demo, :parse_json, 1),
       %{
         description: "Parse a JSON string and return analysis",
         exposed_to_python: true,
         parameters: [%{name: "json_string", type: "string", required: true}]
       }},
      {"calculate_fibonacci", Function.capture(demo, :calculate_fibonacci, 1),
       %{
         description: "Calculate Fibonacci sequence up to n numbers",
         exposed_to_python: true,
         parameters: [%{name: "n", type: "integer", required: true}]
       }},
      {"process_list", Function.capture(demo, :process_list, 1),
       %{
         description: "Process a list with various operations",
         exposed_to_python: true,
         parameters: [
           %{name: "list", type: "array", required: true},
           %{name: "operation", type: "string", required: false}
         ]
       }}
    ]

    # the same registration...
    declared = ElixirTools.registrations([DemoElixirTools])

    for {name, _fun, metadata} <- by_hand do
      assert {^name, _handler, ^metadata} = List.keyfind(declared, name, 0)
    end

    # ...and the same answers, as snakepit runs them (ToolRegistry.execute_local_tool/3, what
    # the BridgeServer's ExecuteElixirTool calls) and encodes them
    hand_session = fresh_session("by-hand")
    declared_session = fresh_session("declared")

    for {name, fun, metadata} <- by_hand do
      :ok = ToolRegistry.register_elixir_tool(hand_session, name, fun, metadata)
    end

    :ok = ElixirTools.register(declared_session, [DemoElixirTools])

    calls = [
      {"calculate_fibonacci", %{"n" => 0}},
      {"calculate_fibonacci", %{"n" => 1}},
      {"calculate_fibonacci", %{"n" => 10}},
      {"calculate_fibonacci", %{"n" => 120}},
      {"parse_json", %{"json_string" => ~s({"a": 1, "b": [1, 2], "c": {"d": null}})}},
      {"parse_json", %{"json_string" => "{not json"}},
      {"process_list", %{"list" => [3, 1, 2]}},
      {"process_list", %{"list" => [3, 1, 2], "operation" => "max"}},
      {"process_list", %{"list" => [3, 1, 2], "operation" => "min"}},
      {"process_list", %{"list" => [3, 1, 2], "operation" => "mean"}},
      {"process_list", %{"list" => [], "operation" => "mean"}},
      {"process_list", %{"list" => [3, 1, 2], "operation" => "reverse"}}
    ]

    for {tool, params} <- calls do
      assert {:ok, by_hand_result} = ToolRegistry.execute_local_tool(hand_session, tool, params)
      assert {:ok, result} = ToolRegistry.execute_local_tool(declared_session, tool, params)
      assert Jason.encode!(result) == Jason.encode!(by_hand_result), "#{tool} #{inspect(params)}"
    end

    # Where the demo returns a tuple, snakepit would send its inspect/1 text in place of JSON;
    # the declared tool answers an error instead.
    params = %{"list" => [1], "operation" => "cube"}

    assert {:ok, %{result: {:error, _}}} =
             ToolRegistry.execute_local_tool(hand_session, "process_list", params)

    assert {:error, {:tool_execution_failed, %RuntimeError{message: message}}} =
             ToolRegistry.execute_local_tool(declared_session, "process_list", params)

    assert message =~ "tool `process_list` returned a value with no JSON form"
  end

  test "a wrong parameter sent by a Rust dynamic call is refused, naming the parameter" do
    RealSnakepit.trace_calls!(DemoElixirTools)

    # call_elixir_demo sends the options as they are (the Rust side checks names, not kinds)
    assert {:error, %Snakepit.Error{} = error} =
             RealShowcase.call_elixir_demo("calculate_fibonacci",
               n: "ten",
               snakepit: [pool_name: :solo]
             )

    assert inspect(error) =~
             "tool `calculate_fibonacci`: the parameter `n` must be an integer, got"

    # the function never ran
    refute_receive {:elixir_call, :calculate_fibonacci, _}, 200

    # and the worker is fine
    assert {:ok, %{"result" => %{"sum" => 2}}} =
             RealShowcase.call_elixir_demo("calculate_fibonacci",
               n: 3,
               snakepit: [pool_name: :solo]
             )
  end

  test "the BridgeServer lists registered tools byte for byte as the manifest from the code says" do
    modules = [DemoElixirTools, TypedElixirTools]
    session = fresh_session("snapshot")
    :ok = ElixirTools.register(session, modules)
    output = Path.join(tmp_dir!("snapshot"), "elixir_tools.json")

    {text, status} =
      System.cmd(
        RealSnakepit.cli!(),
        [
          "snapshot",
          "--address",
          Snakepit.GRPC.Listener.address(),
          "--session",
          session,
          "-o",
          output
        ],
        stderr_to_stdout: true
      )

    assert status == 0, text
    assert File.read!(output) == ElixirTools.manifest(modules, session: session)
  end

  test "in a real pool, a worker that verifies its Elixir tools does not start on a changed one" do
    mismatched =
      SnakepitBridge.pool_config(:mismatched,
        adapter: SnakepitBridge.Test.RealShowcaseAdapter,
        pool_size: 1,
        args: ["--verify-elixir-tools"],
        elixir_tools: [ChangedDemoElixirTools]
      )

    on_exit(fn -> RealSnakepit.ensure_started!() end)

    {outcome, log} =
      ExUnit.CaptureLog.with_log(fn -> RealSnakepit.start_pools([mismatched]) end)

    # snakepit gives up on a pool whose worker cannot start (its starter's restart limit)
    assert outcome != :ok
    assert RealSnakepit.workers(:mismatched) == []
    # and logs the worker's own account of why, every difference
    assert log =~ "the host disagrees with the tools `DemoTools` declares"
    assert log =~ "tool `calculate_fibonacci` has no parameter `n`"
    assert log =~ "tool `calculate_fibonacci` requires parameter `count` (integer)"
  end

  test "a Rust worker that verifies its Elixir tools at start-up refuses a changed declaration" do
    # As snakepit would launch it, with the tools registered in its start-up session as a pool
    # with `elixir_tools: [ChangedDemoElixirTools]` registers them (Workers.starting/0).
    worker_id = "changed_#{System.unique_integer([:positive])}"
    startup = Workers.startup_session(worker_id)
    on_exit(fn -> ElixirTools.unregister(startup) end)
    :ok = ElixirTools.register(startup, [ChangedDemoElixirTools])
    ready_file = Path.join(tmp_dir!("ready"), "snakepit_ready_#{worker_id}_1")

    # bounded: a worker that passed its check would serve until killed
    {text, status} =
      System.cmd(
        "timeout",
        [
          "60",
          RealSnakepit.worker!(:showcase),
          "--verify-elixir-tools",
          "--port",
          "0",
          "--elixir-address",
          Snakepit.GRPC.Listener.address()
        ],
        env: [{"SNAKEPIT_READY_FILE", ready_file}],
        stderr_to_stdout: true
      )

    assert status not in [0, 124], "the worker did not refuse to start:\n#{text}"
    refute File.exists?(ready_file)
    assert text =~ "calculate_fibonacci"
    assert text =~ "`n`"
    assert text =~ "`count`"
  end

  test "the manifest from the declarations compiles a Rust crate; a changed one fails at the method" do
    crate = tmp_dir!("elixir_tools_crate")
    File.cp_r!(Path.expand("fixtures/elixir_tools_crate", __DIR__), crate)
    root = RealSnakepit.root()

    File.write!(Path.join(crate, "Cargo.toml"), """
    [package]
    name = "elixir_tools_fixture"
    version = "0.0.0"
    edition = "2021"
    publish = false

    [dependencies]
    snakepit-bridge = { path = #{inspect(root)} }
    serde_json = "1"

    [workspace]
    """)

    # The workspace's lock and target directory: the same dependency versions, already built.
    File.cp!(Path.join(root, "Cargo.lock"), Path.join(crate, "Cargo.lock"))
    target = System.get_env("CARGO_TARGET_DIR") || Path.join(root, "target")
    manifest = Path.join(crate, "elixir_tools.json")

    build = fn ->
      System.cmd("cargo", ["build", "--offline", "--quiet"],
        cd: crate,
        env: [{"CARGO_TARGET_DIR", target}],
        stderr_to_stdout: true
      )
    end

    File.write!(manifest, ElixirTools.manifest([DemoElixirTools]))
    {text, status} = build.()
    assert status == 0, "the fixture crate did not build against the declared tools:\n#{text}"

    File.write!(manifest, ElixirTools.manifest([ChangedDemoElixirTools]))
    {text, status} = build.()
    assert status != 0, "the fixture crate built against a changed declaration"
    # at the method whose tool changed: `async fn calculate_fibonacci(&self, n: u32)`
    assert text =~ "src/lib.rs:13"
    assert text =~ "calculate_fibonacci"
    assert text =~ "count"
  end
end
