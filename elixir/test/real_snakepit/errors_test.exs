defmodule SnakepitBridge.RealSnakepit.ErrorsTest do
  # A tool's failure as snakepit's own structs, the ! variants' SnakepitBridge.ToolError, and
  # bad input refused before anything is sent, against the Rust showcase worker in a real pool.
  use ExUnit.Case, async: false

  @moduletag :real_snakepit
  @moduletag timeout: 180_000

  alias SnakepitBridge.Test.{RealShowcase, RealSnakepit}

  setup_all do
    RealSnakepit.ensure_started!()
  end

  test "a failing tool is {:error, %Snakepit.Error{}} with the worker's error struct as reason" do
    assert {:error,
            %Snakepit.Error{
              category: :worker,
              message: "Request failed",
              details: %{
                command: "error_demo",
                pool_name: :showcase,
                reason: %Snakepit.Error.ValueError{
                  message: "This is a demonstration ValueError",
                  python_type: "ValueError",
                  context: %{"tool_name" => "error_demo", "session_id" => "session_" <> _}
                }
              }
            }} = RealShowcase.error_demo(error_type: "value")

    assert {:error, %Snakepit.Error{details: %{reason: %Snakepit.Error.RuntimeError{}}}} =
             RealShowcase.error_demo(error_type: "runtime")

    # a type snakepit has no struct for
    assert {:error,
            %Snakepit.Error{
              details: %{
                reason: %Snakepit.Error.PythonException{
                  python_type: "Exception",
                  message: "This is a generic exception"
                }
              }
            }} = RealShowcase.error_demo()

    assert {:error, %Snakepit.Error{details: %{reason: %Snakepit.Error.NotImplementedError{}}}} =
             RealShowcase.execute_tool("ping")
  end

  test "an unknown tool, called through snakepit, is the worker's AttributeError" do
    assert {:error,
            %Snakepit.Error{
              details: %{reason: %Snakepit.Error.AttributeError{message: message}}
            }} = Snakepit.execute("no_such_tool", %{}, pool_name: :showcase)

    assert message =~ "no_such_tool"
  end

  # The bug real snakepit showed (fixed in SnakepitBridge.Adapter.grpc_execute_stream/7):
  # snakepit translates a worker's error into its structs only for unary calls; a streaming
  # tool's error came back as a raw %GRPC.RPCError{} whose message was the error's JSON text.
  test "a failing streaming tool gives the same struct as a unary one, not a raw RPCError" do
    parent = self()

    assert {:error,
            %Snakepit.Error{
              category: :worker,
              message: "Request failed",
              details: %{
                command: "stream_data",
                reason: %Snakepit.Error.ValueError{message: message, python_type: "ValueError"}
              }
            }} =
             RealShowcase.stream_data([count: 3, delay: -1.0], &send(parent, {:chunk, &1}))

    assert message == "tool `stream_data`: delay must be a number of seconds >= 0, got -1"
    refute_received {:chunk, _}

    # straight through snakepit, without the bindings: the same
    assert {:error, %Snakepit.Error{details: %{reason: %Snakepit.Error.ValueError{}}}} =
             Snakepit.execute_stream("stream_data", %{"delay" => -1}, fn _ -> :ok end,
               pool_name: :solo
             )

    error =
      assert_raise SnakepitBridge.ToolError, fn ->
        RealShowcase.stream_data!([count: 3, delay: -1.0], fn _ -> :ok end)
      end

    assert Exception.message(error) =~
             ~r"^SnakepitBridge.Test.RealShowcase.stream_data!/2 \(tool `stream_data`\) failed: "

    assert Exception.message(error) =~ "[worker] Request failed: ValueError: " <> message
  end

  test "! raises SnakepitBridge.ToolError naming the function, the tool and the worker's error" do
    error =
      assert_raise SnakepitBridge.ToolError, fn ->
        RealShowcase.error_demo!(error_type: "value")
      end

    assert %SnakepitBridge.ToolError{
             tool: "error_demo",
             reason: %Snakepit.Error{details: %{reason: %Snakepit.Error.ValueError{}}}
           } = error

    assert Exception.message(error) =~
             ~r"^SnakepitBridge.Test.RealShowcase.error_demo!/1 \(tool `error_demo`\) failed: "

    assert Exception.message(error) =~
             "failed: [worker] Request failed: ValueError: This is a demonstration ValueError"

    timeout =
      assert_raise SnakepitBridge.ToolError, fn ->
        RealShowcase.telemetry_demo!(delay_ms: 2_000, snakepit: [timeout: 100])
      end

    assert Exception.message(timeout) =~ "(tool `telemetry_demo`) failed: [timeout] "
  end

  describe "bad input" do
    setup do
      # snakepit emits [:snakepit, :grpc_worker, :execute, :start] before each unary call it
      # sends to a worker (lib/snakepit/grpc_worker/instrumentation.ex instrument_execute/6),
      # and [:snakepit, :request, :executed] with `streaming: true` after each streaming call
      # it ran on a worker (lib/snakepit/pool/pool.ex execute_stream/4), both in the course of
      # the caller's call: a refused call must leave neither.
      RealSnakepit.attach_telemetry!([
        [:snakepit, :grpc_worker, :execute, :start],
        [:snakepit, :request, :executed]
      ])

      :ok
    end

    test "is an ArgumentError naming the function, the tool and the parameter; nothing is sent" do
      refused = [
        {fn -> RealShowcase.basic_add("1", 2) end,
         "SnakepitBridge.Test.RealShowcase.basic_add/3 (tool `basic_add`): parameter `a` must be " <>
           "a number (float), got \"1\""},
        {fn -> RealShowcase.ping(mesage: "hi") end,
         "SnakepitBridge.Test.RealShowcase.ping/1 (tool `ping`): unknown option :mesage " <>
           "(did you mean :message?)"},
        {fn -> RealShowcase.ping(message: nil) end, "parameter `message` must be"},
        {fn -> RealShowcase.process_binary(:not_bytes) end, "parameter `data` must be"},
        {fn -> RealShowcase.ping(snakepit: [timeout: -1]) end,
         "call option :timeout must be a positive integer"},
        {fn -> RealShowcase.ping(snakepit: [pool_nam: :solo]) end,
         "unknown call option :pool_nam in :snakepit (did you mean :pool_name?)"},
        {fn -> RealShowcase.stream_data([count: "3"], fn _ -> :ok end) end,
         "parameter `count` must be"},
        {fn -> RealShowcase.stream_data([], :not_a_function) end,
         "the callback must be a function of one argument"}
      ]

      for {call, expected} <- refused do
        error = assert_raise ArgumentError, call
        assert Exception.message(error) =~ expected
        # the refused call returned (raised) without snakepit starting any call on a worker
        refute_received {:telemetry, [:snakepit, :grpc_worker, :execute, :start], _, _},
                        "a refused call reached a worker"

        refute_received {:telemetry, [:snakepit, :request, :executed], _, %{streaming: true}},
                        "a refused streaming call reached a worker"
      end

      # and the same tools, with good input, do reach a worker (so the check above can fail)
      assert {:ok, 3.0} = RealShowcase.basic_add(1, 2)

      assert_received {:telemetry, [:snakepit, :grpc_worker, :execute, :start], _,
                       %{command: "basic_add"}}

      assert :ok = RealShowcase.stream_data([count: 1, delay: 0.0], fn _ -> :ok end)

      assert_received {:telemetry, [:snakepit, :request, :executed], _,
                       %{command: "stream_data", streaming: true, success: true}}
    end
  end
end
