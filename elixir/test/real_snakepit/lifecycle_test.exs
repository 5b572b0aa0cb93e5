defmodule SnakepitBridge.RealSnakepit.LifecycleTest do
  # A Rust worker killed in the middle of a call, and a stopped snakepit application.
  use ExUnit.Case, async: false

  @moduletag :real_snakepit
  @moduletag timeout: 180_000

  alias Snakepit.Bridge.ToolRegistry
  alias SnakepitBridge.Test.{RealShowcase, RealSnakepit}

  setup_all do
    RealSnakepit.ensure_started!()
  end

  # each test may find the application stopped by the other
  setup do
    RealSnakepit.ensure_started!()
  end

  test "a worker SIGKILLed mid-call: the caller gets a clear error, the pool replaces the worker" do
    RealSnakepit.attach_telemetry!([[:snakepit, :grpc_worker, :execute, :start]])
    before = RealSnakepit.workers(:showcase)

    # a call that takes 10 s on whichever worker serves it
    call =
      Task.async(fn ->
        RealShowcase.telemetry_demo(delay_ms: 10_000, snakepit: [timeout: 30_000])
      end)

    assert_receive {:telemetry, _, _, %{command: "telemetry_demo", worker_id: worker_id}}, 5_000
    killed = RealSnakepit.os_pid!(worker_id)
    killed_session = RealSnakepit.session_id!(worker_id)
    {_, 0} = System.cmd("kill", ["-KILL", Integer.to_string(killed)])

    # the caller is answered at once, long before the tool would have finished
    assert {:ok, result} = Task.yield(call, 5_000) || Task.shutdown(call, :brutal_kill),
           "the call to the killed worker did not return within 5 s"

    # Which of snakepit's two answers comes depends on what it notices first: the worker's
    # exit (its port's exit status, lib/snakepit/grpc_worker.ex handle_info/2 replying to the
    # pending calls) or the call's broken HTTP/2 stream (gRPC INTERNAL, mapped to :internal by
    # lib/snakepit/grpc/client_impl.ex).
    assert {:error, %Snakepit.Error{} = error} = result

    assert match?(
             %{
               category: :worker,
               message: "Worker shutting down",
               details: %{reason: {:grpc_server_exited, 137}, worker_id: ^worker_id}
             },
             error
           ) or
             match?(
               %{
                 category: :pool,
                 details: %{command: "telemetry_demo", pool_name: :showcase, reason: :internal}
               },
               error
             ),
           "unexpected error for a call to a killed worker: #{inspect(error)}"

    RealSnakepit.poll!(5_000, "the killed worker #{killed} to be gone", fn ->
      if RealSnakepit.os_alive?(killed), do: {:retry, killed}, else: {:ok, :gone}
    end)

    # snakepit restarts the worker under the same id with a new OS process
    replacement =
      RealSnakepit.poll!(20_000, "a new OS process for #{worker_id}", fn ->
        case Snakepit.Pool.ProcessRegistry.get_worker_info(worker_id) do
          {:ok, %{process_pid: pid}} when pid != killed -> {:ok, pid}
          other -> {:retry, other}
        end
      end)

    assert RealSnakepit.os_alive?(replacement)
    workers = RealSnakepit.await_pools!(20_000)
    assert length(workers.showcase) == 2
    assert Enum.sort(workers.showcase) == Enum.sort(before)

    # and both workers answer
    for n <- 1..6 do
      assert {:ok, %{"message" => message}} = RealShowcase.ping(message: "after-#{n}")
      assert message == "after-#{n}"
    end

    # the pool's Elixir tools went with the old worker's session and came with the new one's
    RealSnakepit.poll!(5_000, "the tools of #{killed_session} to be released", fn ->
      case ToolRegistry.list_exposed_elixir_tools(killed_session) do
        [] -> {:ok, :released}
        tools -> {:retry, Enum.map(tools, & &1.name)}
      end
    end)

    new_session = RealSnakepit.session_id!(worker_id)
    assert new_session != killed_session

    assert new_session
           |> ToolRegistry.list_exposed_elixir_tools()
           |> Enum.map(& &1.name)
           |> Enum.sort() ==
             ["calculate_fibonacci", "parse_json", "process_list"]

    # and the replacement process serves calls under the worker's id. Asked of that worker
    # directly (Snakepit.GRPCWorker.execute/5 by worker id, through the adapter as a pool's
    # call is): sequential calls through the pool all go to whichever worker its queue offers
    # first, which need not be the replacement.
    RealSnakepit.poll!(20_000, "a call served by the replacement process #{replacement}", fn ->
      case Snakepit.GRPCWorker.execute(worker_id, "get_stats", %{}, 5_000, []) do
        {:ok, %{"system" => %{"pid" => ^replacement}}} -> {:ok, replacement}
        other -> {:retry, other}
      end
    end)
  end

  test "a stopped application leaves no worker OS process behind" do
    pids =
      for pool <- [:showcase, :solo, :verified, :payload],
          worker_id <- RealSnakepit.workers(pool) do
        RealSnakepit.os_pid!(worker_id)
      end

    assert length(pids) == 5
    assert Enum.all?(pids, &RealSnakepit.os_alive?/1)

    assert :ok = Application.stop(:snakepit)

    RealSnakepit.poll!(10_000, "every worker OS process to exit", fn ->
      case Enum.filter(pids, &RealSnakepit.os_alive?/1) do
        [] -> {:ok, :gone}
        alive -> {:retry, alive}
      end
    end)

    # nor any other process launched for this VM's snakepit instance
    instance = Application.fetch_env!(:snakepit, :instance_name)
    assert RealSnakepit.instance_processes(instance) == []
  end
end
