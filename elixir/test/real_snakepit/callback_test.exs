defmodule SnakepitBridge.RealSnakepit.CallbackTest do
  # A Rust tool calling back into an Elixir tool: the showcase's elixir_fibonacci calls
  # calculate_fibonacci through its typed DemoTools trait (examples/support/demo_tools.rs),
  # call_elixir_demo calls any tool by name. The tools are SnakepitBridge.Test.DemoElixirTools,
  # registered for every worker by the pools' `elixir_tools:` (no hand registration).
  use ExUnit.Case, async: false

  @moduletag :real_snakepit
  @moduletag timeout: 180_000

  alias SnakepitBridge.Test.{DemoElixirTools, RealShowcase, RealSnakepit}

  setup_all do
    RealSnakepit.ensure_started!()
  end

  setup do
    RealSnakepit.trace_calls!(DemoElixirTools)
    :ok
  end

  test "elixir_fibonacci: a typed call from the Rust tool into the Elixir tool" do
    assert {:ok, %{"n" => 10, "sequence" => sequence, "sum" => 88}} =
             RealShowcase.elixir_fibonacci(10)

    assert sequence == [0, 1, 1, 2, 3, 5, 8, 13, 21, 34]
    # it ran in Elixir: the declared function, with its argument checked and passed in place
    assert_receive {:elixir_call, :calculate_fibonacci, [10]}, 5_000

    assert %{"n" => 3, "sequence" => [0, 1, 1], "sum" => 2} =
             RealShowcase.elixir_fibonacci!(3, snakepit: [pool_name: :solo])

    assert_receive {:elixir_call, :calculate_fibonacci, [3]}, 5_000

    # the argument is checked by the bindings before sending
    assert_raise ArgumentError, ~r/parameter `n` must be/, fn ->
      RealShowcase.elixir_fibonacci("10")
    end

    refute_receive {:elixir_call, :calculate_fibonacci, _}, 100
  end

  test "call_elixir_demo: any Elixir tool by name, the rest of the options as its parameters" do
    assert {:ok,
            %{
              "tool" => "calculate_fibonacci",
              "source" => "elixir",
              "result" => %{"n" => 7, "sequence" => [0, 1, 1, 2, 3, 5, 8], "sum" => 20}
            }} = RealShowcase.call_elixir_demo("calculate_fibonacci", n: 7)

    assert_receive {:elixir_call, :calculate_fibonacci, [7]}, 5_000

    assert {:ok, %{"result" => %{"operation" => "max", "result" => 9}}} =
             RealShowcase.call_elixir_demo("process_list", list: [3, 9, 1], operation: "max")

    # a tool the session does not have: the worker lists the ones it has
    assert {:ok,
            %{
              "error" => "Elixir tool no_such_elixir_tool not found",
              "available_tools" => ["calculate_fibonacci", "parse_json", "process_list"]
            }} = RealShowcase.call_elixir_demo("no_such_elixir_tool", x: 1)
  end

  test "an Elixir tool registered after the worker's first call back is found on its next call" do
    [solo] = RealSnakepit.workers(:solo)
    session = RealSnakepit.session_id!(solo)
    tool = "late_tool_#{System.unique_integer([:positive])}"

    assert {:ok, %{"error" => "Elixir tool " <> _}} =
             RealShowcase.call_elixir_demo(tool, x: 1, snakepit: [pool_name: :solo])

    :ok =
      Snakepit.Bridge.ToolRegistry.register_elixir_tool(
        session,
        tool,
        fn params -> %{got: params["x"]} end,
        %{
          description: "registered late",
          exposed_to_python: true,
          parameters: [%{name: "x", type: "integer", required: true}]
        }
      )

    # The worker cached the session's tool list on the first call; a miss looks again.
    assert {:ok, %{"tool" => ^tool, "result" => %{"got" => 1}}} =
             RealShowcase.call_elixir_demo(tool, x: 1, snakepit: [pool_name: :solo])
  end
end
