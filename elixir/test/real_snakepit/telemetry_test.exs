defmodule SnakepitBridge.RealSnakepit.TelemetryTest do
  # The Rust worker's telemetry through snakepit: its one event per call (tool.execution.stop
  # or .exception) as :telemetry events, and snakepit's own controls (Snakepit.Telemetry.GrpcStream toggle/2,
  # update_sampling/3, update_filter/2) taking effect on the worker.
  use ExUnit.Case, async: false

  @moduletag :real_snakepit
  @moduletag timeout: 180_000

  alias Snakepit.Telemetry.GrpcStream
  alias SnakepitBridge.Test.{RealShowcase, RealSnakepit}

  @start [:snakepit, :python, :tool, :execution, :start]
  @stop [:snakepit, :python, :tool, :execution, :stop]
  @exception [:snakepit, :python, :tool, :execution, :exception]
  @result_size [:snakepit, :python, :tool, :result_size]

  # The worker's events arrive on its telemetry stream, after the call's answer.
  @event_timeout 5_000

  setup_all do
    RealSnakepit.ensure_started!()
  end

  setup do
    RealSnakepit.attach_telemetry!([@start, @stop, @exception, @result_size])
    :ok
  end

  test "Rust tool calls emit one event each: [:snakepit, :python, :tool, :execution, :stop | :exception]" do
    workers = RealSnakepit.workers(:showcase)

    assert {:ok, 3.0} = RealShowcase.basic_add(1, 2, snakepit: [correlation_id: "tel-ok"])

    assert_receive {:telemetry, @stop, %{duration: duration, message_size: 3},
                    %{tool: "basic_add", correlation_id: "tel-ok", worker_id: worker_id} = meta},
                   @event_timeout

    assert is_integer(duration) and duration > 0
    assert worker_id in workers
    # python_pid is the worker's OS pid, as for a Python worker
    assert meta.python_pid == RealSnakepit.os_pid!(worker_id)

    assert {:error, _} =
             RealShowcase.error_demo(error_type: "value", snakepit: [correlation_id: "tel-err"])

    assert_receive {:telemetry, @exception, %{duration: _},
                    %{
                      tool: "error_demo",
                      correlation_id: "tel-err",
                      error_type: "ValueError",
                      error_message: "This is a demonstration ValueError"
                    }},
                   @event_timeout

    refute_received {:telemetry, @stop, _, %{correlation_id: "tel-err"}}
    # One event a call: no start, no separate result size (the worker's events come in order).
    refute_received {:telemetry, @start, _, %{correlation_id: "tel-" <> _}}
    refute_received {:telemetry, @result_size, _, %{correlation_id: "tel-" <> _}}

    # a streaming call too
    assert :ok =
             RealShowcase.stream_data(
               [count: 2, delay: 0.0, snakepit: [correlation_id: "tel-stream"]],
               fn _ ->
                 :ok
               end
             )

    assert_receive {:telemetry, @stop, _, %{tool: "stream_data", correlation_id: "tel-stream"}},
                   @event_timeout
  end

  describe "snakepit's telemetry controls, on the :solo pool's one worker" do
    setup do
      [worker] = RealSnakepit.workers(:solo)

      on_exit(fn ->
        GrpcStream.update_sampling(worker, 1.0, [])
        GrpcStream.update_filter(worker, [])
        GrpcStream.toggle(worker, true)
      end)

      %{worker: worker}
    end

    test "toggle(worker, false): no events at all; toggle(worker, true): events again", %{
      worker: worker
    } do
      assert_listed(worker)
      GrpcStream.toggle(worker, false)
      await_enabled(false)

      for n <- 1..3 do
        assert {:ok, _} = call("off-#{n}")
      end

      GrpcStream.toggle(worker, true)
      await_enabled(true)

      # The worker sends its events in order on one stream: once the marker's last event is
      # in, any event of the calls made while off would be too.
      assert {:ok, _} = call("on-marker")
      assert_receive {:telemetry, @stop, _, %{correlation_id: "on-marker"}}, @event_timeout

      assert off_events() == [], "events of calls made with telemetry toggled off"
    end

    test "update_sampling(worker, 0.0, patterns): the matching events are never sent", %{
      worker: worker
    } do
      assert_listed(worker)
      GrpcStream.update_sampling(worker, 0.0, ["tool.execution.*"])
      fence(worker)

      for n <- 1..3 do
        # telemetry_demo emits a tool.result_size of its own, outside the patterns: it still
        # comes, after the execution events
        assert {:ok, _} = demo("sampled-#{n}")

        assert_receive {:telemetry, @result_size, _, %{correlation_id: "sampled-" <> _}},
                       @event_timeout
      end

      refute_received {:telemetry, @start, _, %{correlation_id: "sampled-" <> _}}
      refute_received {:telemetry, @stop, _, %{correlation_id: "sampled-" <> _}}

      # sampling 0.0 for everything: nothing; back to 1.0: everything
      GrpcStream.update_sampling(worker, 0.0, [])
      fence(worker)
      assert {:ok, _} = call("off-sampled")
      GrpcStream.update_sampling(worker, 1.0, [])
      fence(worker)
      assert {:ok, _} = call("on-marker")
      assert_receive {:telemetry, @stop, _, %{correlation_id: "on-marker"}}, @event_timeout
      assert off_events() == []
    end

    test "update_filter(worker, deny: ...): the denied events are never sent", %{worker: worker} do
      assert_listed(worker)
      GrpcStream.update_filter(worker, deny: ["tool.execution.start", "tool.execution.stop"])
      fence(worker)

      assert {:ok, _} = demo("filtered")
      assert_receive {:telemetry, @result_size, _, %{correlation_id: "filtered"}}, @event_timeout
      refute_received {:telemetry, @start, _, %{correlation_id: "filtered"}}
      refute_received {:telemetry, @stop, _, %{correlation_id: "filtered"}}

      GrpcStream.update_filter(worker, allow: ["tool.execution.stop"])
      fence(worker)
      assert {:ok, _} = call("allowed")
      assert_receive {:telemetry, @stop, _, %{correlation_id: "allowed"}}, @event_timeout

      GrpcStream.update_filter(worker, [])
      fence(worker)
      assert {:ok, _} = demo("on-marker")
      assert_receive {:telemetry, @result_size, _, %{correlation_id: "on-marker"}}, @event_timeout
      assert_received {:telemetry, @start, _, %{correlation_id: "on-marker"}}
      refute_received {:telemetry, _, _, %{correlation_id: "allowed"}}
    end
  end

  defp call(correlation_id) do
    RealShowcase.basic_add(1, 2, snakepit: [pool_name: :solo, correlation_id: correlation_id])
  end

  # A call whose tool emits events of its own: tool.execution.start, a tool.execution span and
  # a tool.result_size (examples/showcase_worker.rs telemetry_demo).
  defp demo(correlation_id) do
    RealShowcase.telemetry_demo(
      delay_ms: 0,
      snakepit: [pool_name: :solo, correlation_id: correlation_id]
    )
  end

  # snakepit registers the worker's stream with a cast after the pool reports ready
  # (lib/snakepit/grpc_worker.ex register_telemetry_stream/2); a control sent before it is
  # listed is dropped (lib/snakepit/telemetry/grpc_stream.ex enqueue_control_message/4).
  # RealSnakepit.ensure_started!/0 waited for it.
  defp assert_listed(worker) do
    assert Enum.any?(GrpcStream.list_streams(), &(&1.worker_id == worker)),
           "the telemetry stream of #{worker} is not registered"
  end

  # The worker's telemetry switch as the worker itself reports it (telemetry_demo's
  # `telemetry_enabled`), polled until it is `enabled`.
  defp await_enabled(enabled) do
    RealSnakepit.poll!(@event_timeout, "the worker's telemetry_enabled to be #{enabled}", fn ->
      case RealShowcase.telemetry_demo(
             delay_ms: 0,
             snakepit: [pool_name: :solo, correlation_id: "fence"]
           ) do
        {:ok, %{"telemetry_enabled" => ^enabled}} -> {:ok, :ok}
        other -> {:retry, other}
      end
    end)
  end

  # snakepit sends a worker's controls one after another on its stream (lib/snakepit/telemetry/
  # grpc_stream.ex start_next_control_op/2) and the worker applies them in order: once a
  # toggle sent after a control has taken effect, so has the control.
  defp fence(worker) do
    GrpcStream.toggle(worker, false)
    await_enabled(false)
    GrpcStream.toggle(worker, true)
    await_enabled(true)
  end

  defp off_events do
    {:messages, messages} = Process.info(self(), :messages)

    for {:telemetry, event, _, %{correlation_id: "off-" <> _ = id}} <- messages,
        do: {event, id}
  end
end
