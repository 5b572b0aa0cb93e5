defmodule SnakepitBridge.RealSnakepit.CallbackTest do
  # A Rust tool calling back into an Elixir tool registered with snakepit's own ToolRegistry:
  # the showcase's elixir_fibonacci calls calculate_fibonacci through its typed DemoTools trait
  # (examples/support/demo_tools.rs), call_elixir_demo calls any tool by name. The tool is
  # registered in each showcase worker's session by RealSnakepit.ensure_started!/0
  # (RealSnakepit.register_elixir_tools!/1 says how the session is known).
  use ExUnit.Case, async: false

  @moduletag :real_snakepit
  @moduletag timeout: 180_000

  alias SnakepitBridge.Test.{RealShowcase, RealSnakepit}

  setup_all do
    RealSnakepit.ensure_started!()
  end

  setup do
    RealSnakepit.notify_elixir_calls(self())
    sessions = Enum.map(RealSnakepit.workers(:showcase), &RealSnakepit.session_id!/1)
    %{sessions: sessions}
  end

  test "elixir_fibonacci: a typed call from the Rust tool into the Elixir tool", %{
    sessions: sessions
  } do
    assert {:ok, %{"n" => 10, "sequence" => sequence, "sum" => 88}} =
             RealShowcase.elixir_fibonacci(10)

    assert sequence == [0, 1, 1, 2, 3, 5, 8, 13, 21, 34]
    # it ran in Elixir, called in the session of the worker that served the call
    assert_received {:calculate_fibonacci, session, %{"n" => 10}}
    assert session in sessions

    [solo] = RealSnakepit.workers(:solo)
    solo_session = RealSnakepit.session_id!(solo)

    assert %{"n" => 3, "sequence" => [0, 1, 1], "sum" => 2} =
             RealShowcase.elixir_fibonacci!(3, snakepit: [pool_name: :solo])

    assert_received {:calculate_fibonacci, ^solo_session, %{"n" => 3}}

    # the argument is checked by the bindings before sending
    assert_raise ArgumentError, ~r/parameter `n` must be/, fn ->
      RealShowcase.elixir_fibonacci("10")
    end

    refute_received {:calculate_fibonacci, _, _}
  end

  test "call_elixir_demo: any Elixir tool by name, the rest of the options as its parameters", %{
    sessions: sessions
  } do
    assert {:ok,
            %{
              "tool" => "calculate_fibonacci",
              "source" => "elixir",
              "result" => %{"n" => 7, "sequence" => [0, 1, 1, 2, 3, 5, 8], "sum" => 20}
            }} = RealShowcase.call_elixir_demo("calculate_fibonacci", n: 7)

    assert_received {:calculate_fibonacci, session, %{"n" => 7}}
    assert session in sessions

    # a tool the session does not have: the worker lists the ones it has
    assert {:ok,
            %{
              "error" => "Elixir tool no_such_elixir_tool not found",
              "available_tools" => ["calculate_fibonacci"]
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
