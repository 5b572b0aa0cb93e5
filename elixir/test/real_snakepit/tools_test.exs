defmodule SnakepitBridge.RealSnakepit.ToolsTest do
  # Every kind of tool of the Rust showcase worker, called through the bindings generated from
  # its manifest (SnakepitBridge.Test.RealShowcase), in pools of a real snakepit application.
  use ExUnit.Case, async: false

  @moduletag :real_snakepit
  @moduletag timeout: 180_000

  alias SnakepitBridge.Test.{RealShowcase, RealSnakepit}

  setup_all do
    RealSnakepit.ensure_started!()
  end

  test "a plain tool: typed arguments in, the worker's JSON answer out" do
    assert {:ok, 3.0} = RealShowcase.basic_add(1, 2)
    assert {:ok, 0.75} = RealShowcase.basic_add(0.5, 0.25)
    assert {:ok, %{"echoed" => %{"message" => "hi"}}} = RealShowcase.basic_echo("hi")

    assert {:ok, %{"adapter_name" => "ShowcaseAdapter", "language" => "rust"} = info} =
             RealShowcase.adapter_info()

    assert "elixir_fibonacci" in info["handlers"]
  end

  test "optional parameters: left out, the worker applies its default; given, they are sent" do
    assert {:ok, %{"message" => "pong", "timestamp" => timestamp}} = RealShowcase.ping()
    assert {seconds, _} = Float.parse(timestamp)
    assert seconds > 0
    assert {:ok, %{"message" => "hi"}} = RealShowcase.ping(message: "hi")

    assert {:ok, %{"result" => "ABC", "operation" => "upper"}} = RealShowcase.process_text("abc")

    assert {:ok, %{"result" => "cba", "operation" => "reverse"}} =
             RealShowcase.process_text("abc", operation: "reverse")

    assert {:ok, %{"task_count" => 2, "results" => [_, _]}} =
             RealShowcase.concurrent_demo(task_count: 2)
  end

  test "the ! variants return the result itself" do
    assert 3.0 = RealShowcase.basic_add!(1, 2)
    assert %{"message" => "bang"} = RealShowcase.ping!(message: "bang")
    assert %{"echoed" => %{"k" => "v"}} = RealShowcase.echo!(k: "v")
  end

  test "call options under snakepit: reach snakepit (pool, session, timeout, correlation id)" do
    assert {:ok, %{"message" => "solo"}} =
             RealShowcase.ping(message: "solo", snakepit: [pool_name: :solo, timeout: 5_000])

    assert {:ok, %{"message" => "pong"}} = RealShowcase.ping(snakepit: [session_id: "user-1"])

    assert {:ok, %{"correlation_id" => "corr-tools-1"}} =
             RealShowcase.telemetry_demo(
               delay_ms: 0,
               snakepit: [correlation_id: "corr-tools-1"]
             )

    # snakepit's deadline: the call gives up after :timeout, with snakepit's timeout error
    assert {:error, %Snakepit.Error{category: :timeout}} =
             RealShowcase.telemetry_demo(delay_ms: 2_000, snakepit: [timeout: 100])
  end

  test "a streaming tool hands the callback every chunk, in order, the last one final" do
    parent = self()

    assert :ok =
             RealShowcase.stream_data([count: 4, delay: 0.0], fn chunk ->
               send(parent, {:chunk, chunk})
             end)

    chunks = collect_chunks(4)
    assert Enum.map(chunks, & &1["index"]) == [1, 2, 3, 4]
    assert Enum.map(chunks, & &1["is_final"]) == [false, false, false, true]
    assert %{"message" => "Chunk 1/4", "total" => 4} = hd(chunks)

    # the ! variant, on another pool
    assert :ok =
             RealShowcase.stream_data!(
               [count: 2, delay: 0.0, snakepit: [pool_name: :solo]],
               &send(parent, {:chunk, &1})
             )

    assert [%{"index" => 1}, %{"index" => 2, "is_final" => true}] = collect_chunks(2)
  end

  test "binary parameters go as raw bytes, binary results come back as {:binary, ...}" do
    bytes = :crypto.strong_rand_bytes(4096) <> <<0, 255>>

    assert {:ok, {:binary, reversed, %{"operation" => "reverse", "bytes" => 4098}}} =
             RealShowcase.process_binary(bytes, operation: "reverse")

    assert reversed == bytes |> :binary.bin_to_list() |> Enum.reverse() |> :binary.list_to_bin()

    sha256 = Base.encode16(:crypto.hash(:sha256, bytes), case: :lower)

    assert {:ok, %{"operation" => "checksum", "bytes" => 4098, "sha256" => ^sha256}} =
             RealShowcase.process_binary(bytes)
  end

  test "rest parameters: any option that is not a declared parameter is sent as a parameter" do
    assert {:ok, %{"echoed" => %{"a" => 1, "b" => "two", "c" => [1, 2], "d" => %{"e" => true}}}} =
             RealShowcase.echo(a: 1, b: "two", c: [1, 2], d: %{"e" => true})

    assert {:ok, %{"echoed" => echoed}} = RealShowcase.echo()
    assert echoed == %{}

    # call_elixir_demo(tool_name, **kwargs): its kwargs reach the Elixir tool it calls
    assert {:ok, %{"tool" => "calculate_fibonacci", "result" => %{"n" => 4, "sum" => 4}}} =
             RealShowcase.call_elixir_demo("calculate_fibonacci", n: 4)
  end

  # The chunks the callback was given (it may run in another process than the caller's).
  defp collect_chunks(count) do
    chunks =
      for _ <- 1..count do
        assert_receive {:chunk, chunk}, 1_000
        chunk
      end

    refute_received {:chunk, _}
    chunks
  end
end
