defmodule SnakepitBridge.RealSnakepit.LaneTest do
  # The Unix-socket lane in a real snakepit pool: `:solo` (the showcase worker, on the lane)
  # and `:solo_grpc` (the same worker, `transport: :grpc`) get the same calls, and answer the
  # same.
  use ExUnit.Case, async: false

  @moduletag :real_snakepit
  @moduletag timeout: 180_000

  alias SnakepitBridge.Test.{RealShowcase, RealSnakepit}

  setup_all do
    RealSnakepit.ensure_started!()
  end

  defp connection!(pool) do
    [worker_id] = RealSnakepit.workers(pool)
    {:ok, pid} = Snakepit.Pool.Registry.get_worker_pid(worker_id)
    :sys.get_state(pid).connection
  end

  test "a Rust worker offers the lane in a 0700 directory; the adapter takes it unless told :grpc" do
    assert %{lane: lane, channel: _} = connection!(:solo)
    assert Process.alive?(lane.connection)
    refute Map.has_key?(connection!(:solo_grpc), :lane)

    dir = System.fetch_env!(SnakepitBridge.Lane.dir_env())
    assert {:ok, %File.Stat{type: :directory, access: :read_write} = stat} = File.stat(dir)
    assert Bitwise.band(stat.mode, 0o777) == 0o700
    %{port: port} = connection!(:solo)
    assert {:ok, %File.Stat{type: :other}} = File.stat(Path.join(dir, "#{port}.sock"))
  end

  # Each case: a call and what to keep of its answer (fields that differ call to call, such as
  # timestamps, are dropped).
  @wide 2 ** 70
  @bytes :crypto.strong_rand_bytes(70_000) <> <<0, 255>>

  defp cases do
    [
      ping: fn pool -> RealShowcase.ping(message: "lane", snakepit: [pool_name: pool]) end,
      add: fn pool -> RealShowcase.basic_add(1.5, 2, snakepit: [pool_name: pool]) end,
      echo_values: fn pool ->
        RealShowcase.echo(
          a: 1,
          b: "two",
          c: [1, 2.5, nil, true],
          d: %{"e" => %{"f" => []}},
          u: "é ✓ \u0000",
          big: 9_007_199_254_740_993,
          snakepit: [pool_name: pool]
        )
      end,
      wide_integer: fn pool -> RealShowcase.echo(wide: @wide, snakepit: [pool_name: pool]) end,
      wide_float_param: fn pool ->
        RealShowcase.basic_add(@wide, 1, snakepit: [pool_name: pool])
      end,
      value_error: fn pool ->
        RealShowcase.error_demo(error_type: "value", snakepit: [pool_name: pool])
      end,
      runtime_error: fn pool ->
        RealShowcase.error_demo(error_type: "runtime", snakepit: [pool_name: pool])
      end,
      unknown_tool: fn pool -> Snakepit.execute("no_such_tool", %{}, pool_name: pool) end,
      missing_parameter: fn pool ->
        Snakepit.execute("basic_add", %{"a" => 1}, pool_name: pool)
      end,
      wrong_type: fn pool ->
        Snakepit.execute("basic_add", %{"a" => "one", "b" => 2}, pool_name: pool)
      end,
      not_json_encodable: fn pool ->
        Snakepit.execute("echo", %{"t" => {:a, :tuple}}, pool_name: pool)
      end,
      binary_reverse: fn pool ->
        RealShowcase.process_binary(@bytes, operation: "reverse", snakepit: [pool_name: pool])
      end,
      binary_checksum: fn pool ->
        RealShowcase.process_binary(@bytes, snakepit: [pool_name: pool])
      end,
      binary_bad_operation: fn pool ->
        RealShowcase.process_binary("x", operation: "zip", snakepit: [pool_name: pool])
      end,
      correlation_and_deadline: fn pool ->
        with {:ok, answer} <-
               RealShowcase.telemetry_demo(
                 delay_ms: 0,
                 snakepit: [pool_name: pool, correlation_id: "corr-lane-1", timeout: 7_000]
               ) do
          # grpc-timeout "7S": the tool sees what is left of 7 s.
          {:ok, Map.update!(answer, "deadline_remaining_ms", &(&1 in 6_000..7_000))}
        end
      end,
      correlation_in_args: fn pool ->
        with {:ok, answer} <-
               Snakepit.execute(
                 "telemetry_demo",
                 %{"delay_ms" => 0, "correlation_id" => "corr-args"},
                 pool_name: pool
               ) do
          # snakepit's default timeout (240 s) as the deadline: what is left varies by the ms.
          {:ok, Map.update!(answer, "deadline_remaining_ms", &(&1 in 230_000..240_000))}
        end
      end,
      binary_parameter_not_binary: fn pool ->
        Snakepit.execute("process_binary", %{},
          pool_name: pool,
          binary_parameters: %{"data" => 42}
        )
      end,
      binary_parameter: fn pool ->
        Snakepit.execute("process_binary", %{"operation" => "reverse"},
          pool_name: pool,
          binary_parameters: %{"data" => <<1, 2, 3>>}
        )
      end,
      # The transport's own deadline (snakepit's pool would time the call out first if asked
      # through Snakepit.execute/3 with the same timeout).
      timeout: fn pool ->
        [worker_id] = RealSnakepit.workers(pool)

        SnakepitBridge.Adapter.grpc_execute(
          connection!(pool),
          RealSnakepit.session_id!(worker_id),
          "telemetry_demo",
          %{"delay_ms" => 3_000},
          1_500,
          []
        )
      end,
      call_back_into_elixir: fn pool ->
        RealShowcase.call_elixir_demo("calculate_fibonacci", n: 6, snakepit: [pool_name: pool])
      end,
      typed_call_back: fn pool ->
        RealShowcase.elixir_fibonacci(7, snakepit: [pool_name: pool])
      end,
      stream: fn pool -> stream(pool, "stream_data", %{"count" => 5, "delay" => 0.0}) end,
      stream_halt: fn pool ->
        stream(pool, "stream_data", %{"count" => 50, "delay" => 0.0}, fn chunk ->
          if chunk["index"] == 3, do: :halt, else: :ok
        end)
      end,
      stream_halt_reason: fn pool ->
        stream(pool, "stream_data", %{"count" => 50, "delay" => 0.0}, fn chunk ->
          if chunk["index"] == 2, do: {:halt, :enough}, else: :ok
        end)
      end,
      stream_callback_raises: fn pool ->
        stream(pool, "stream_data", %{"count" => 5, "delay" => 0.0}, fn chunk ->
          if chunk["index"] == 2, do: raise("boom"), else: :ok
        end)
      end,
      stream_fails: fn pool -> stream(pool, "stream_data", %{"count" => 2, "delay" => -1.0}) end,
      stream_timeout: fn pool ->
        stream(pool, "stream_data", %{"count" => 5, "delay" => 0.4}, fn _ -> :ok end,
          timeout: 600
        )
      end,
      unary_as_stream: fn pool -> stream(pool, "ping", %{"message" => "s"}) end,
      binary_as_stream: fn pool ->
        stream(pool, "process_binary", %{}, fn _ -> :ok end,
          binary_parameters: %{"data" => "abc"},
          operation: "reverse"
        )
      end
    ]
  end

  defp stream(pool, tool, args, callback \\ fn _ -> :ok end, opts \\ []) do
    {extra, opts} = Keyword.split(opts, [:operation])
    args = Map.merge(args, Map.new(extra, fn {k, v} -> {Atom.to_string(k), v} end))
    parent = self()
    ref = make_ref()

    result =
      Snakepit.execute_stream(
        tool,
        args,
        fn chunk ->
          send(parent, {ref, chunk})
          callback.(chunk)
        end,
        [pool_name: pool] ++ opts
      )

    {result, collect(ref, [])}
  end

  defp collect(ref, acc) do
    receive do
      {^ref, chunk} -> collect(ref, [chunk | acc])
    after
      200 -> Enum.reverse(acc)
    end
  end

  # What may differ between two calls of the same case, whatever the lane.
  defp normalize(value) do
    case value do
      {:ok, %{"timestamp" => _} = map} ->
        {:ok, Map.delete(map, "timestamp")}

      {:error, {:callback_exception, %RuntimeError{message: message}, _stacktrace}} ->
        {:error, {:callback_exception, message}}

      {:error, %Snakepit.Error{} = error} ->
        {:error, %{error | details: normalize_details(error.details)}}

      {result, chunks} when is_list(chunks) ->
        {normalize(result), Enum.map(chunks, &Map.drop(&1, ["timestamp"]))}

      other ->
        other
    end
  end

  defp normalize_details(%{} = details) do
    details
    |> Map.drop([:pool, :pool_name, :worker_id, :worker_pid, :elapsed_ms, :duration_ms])
    |> Map.new(fn
      {:reason, %{__exception__: true} = exception} ->
        {:reason, scrub(exception)}

      {:reason, {:callback_exception, exception, _stacktrace}} ->
        {:reason, {:callback_exception, exception}}

      other ->
        other
    end)
  end

  defp normalize_details(other), do: other

  defp scrub(%{} = exception) do
    exception
    |> Map.from_struct()
    |> Map.drop([:python_traceback, :traceback, :stacktrace])
    |> Map.update(:context, nil, &Map.delete(&1 || %{}, "session_id"))
    |> Map.put(:__struct__, exception.__struct__)
  end

  test "every case answers the same on the lane and on snakepit's gRPC" do
    differing =
      for {name, call} <- cases(),
          lane = normalize(call.(:solo)),
          grpc = normalize(call.(:solo_grpc)),
          lane != grpc,
          do: {name, lane: lane, grpc: grpc}

    assert Keyword.keys(differing) == [], inspect(differing, pretty: true, limit: :infinity)
  end

  test "answers are what the case expects (the lanes do not agree on something wrong)" do
    # Too wide for the parameter's type: refused, naming the parameter, as on gRPC.
    assert {:error,
            %Snakepit.Error{details: %{reason: %Snakepit.Error.ValueError{message: wide}}}} =
             RealShowcase.echo(wide: @wide, snakepit: [pool_name: :solo])

    assert wide =~ "parameter `wide` holds the integer #{@wide}, wider than 64 bits"

    assert {:ok, {:binary, reversed, %{"bytes" => 70_002}}} =
             RealShowcase.process_binary(@bytes,
               operation: "reverse",
               snakepit: [pool_name: :solo]
             )

    assert reversed == @bytes |> :binary.bin_to_list() |> Enum.reverse() |> :binary.list_to_bin()

    assert {:error, %Snakepit.Error{details: %{reason: %Snakepit.Error.ValueError{}}}} =
             RealShowcase.error_demo(error_type: "value", snakepit: [pool_name: :solo])

    # The worker's own deadline answer, as tonic's server gives it (CANCELLED).
    assert {:error, %GRPC.RPCError{status: 1, message: "Timeout expired"}} =
             Enum.find_value(cases(), fn {name, call} -> name == :timeout && call.(:solo) end)

    assert {:ok, %{"correlation_id" => "corr-lane-2", "deadline_remaining_ms" => left}} =
             RealShowcase.telemetry_demo(
               delay_ms: 0,
               snakepit: [pool_name: :solo, correlation_id: "corr-lane-2", timeout: 7_000]
             )

    assert left in 6_000..7_000

    assert {:ok, [%{"index" => 1}, %{"index" => 2}, %{"index" => 3, "is_final" => true}]} =
             stream(:solo, "stream_data", %{"count" => 3, "delay" => 0.0})
  end

  # The pool starts a new :solo worker process (under the same worker id), with a lane of its
  # own, after the one of `os_pid` went.
  defp await_new_solo_worker!(os_pid), do: await_new_worker!(:solo, os_pid)

  defp await_new_worker!(pool, os_pid) do
    RealSnakepit.poll!(30_000, "a new #{pool} worker", fn ->
      with [id] <- RealSnakepit.workers(pool),
           {:ok, %{process_pid: pid}} when pid != os_pid <-
             Snakepit.Pool.ProcessRegistry.get_worker_info(id),
           %{port: _} = connection <- connection!(pool),
           true <- pool != :solo or Map.has_key?(connection, :lane) do
        {:ok, connection}
      else
        other -> {:retry, other}
      end
    end)
  end

  describe "faults" do
    # A second connection to the worker's lane, to send it what the adapter never sends.
    defp raw_lane!(pool) do
      %{port: port} = connection!(pool)
      path = Path.join(System.fetch_env!(SnakepitBridge.Lane.dir_env()), "#{port}.sock")
      {:ok, socket} = :gen_tcp.connect({:local, path}, 0, [:binary, packet: 4, active: false])
      socket
    end

    defp raw_call!(socket, id, body) do
      :ok = :gen_tcp.send(socket, [<<id::64>>, body])
      {:ok, <<^id::64, answer::binary>>} = :gen_tcp.recv(socket, 0, 10_000)
      :erlang.binary_to_term(answer)
    end

    test "a frame that is not a valid term, or of a shape the lane has not, fails that call only" do
      socket = raw_lane!(:solo)

      assert {:status, 3, message} = raw_call!(socket, 7, "not a term")
      assert message =~ "the lane frame of call 7 was refused"
      assert message =~ "version byte 131"

      # A binary claiming 4 GiB inside a 6-byte term: refused before anything is allocated.
      assert {:status, 3, message} = raw_call!(socket, 8, <<131, 109, 255, 255, 255, 255>>)
      assert message =~ "needs 4294967295 bytes"

      assert {:status, 3, message} = raw_call!(socket, 9, :erlang.term_to_binary({:launch, 1}))
      assert message =~ "no `launch` frame"

      # The same connection, and the worker, still serve.
      {:ok, session} = {:ok, RealSnakepit.session_id!(hd(RealSnakepit.workers(:solo)))}

      call =
        {:execute, session, "ping", %{}, %{}, %{}, nil, 5_000, false}
        |> :erlang.term_to_binary()

      assert {:response, true, {_type_url, json}, "", "", _ms} = raw_call!(socket, 10, call)
      assert %{"message" => "pong"} = Jason.decode!(json)

      assert {:ok, %{"message" => "after"}} =
               RealShowcase.ping(message: "after", snakepit: [pool_name: :solo])

      :gen_tcp.close(socket)
    end

    test "a frame over the worker's message limit is refused as gRPC refuses it; the connection goes on" do
      socket = raw_lane!(:solo)
      # 100 MiB (the worker's limit) and one byte.
      big = :binary.copy(<<0>>, 100 * 1024 * 1024 + 1)
      assert {:status, 11, message} = raw_call!(socket, 3, big)
      assert message =~ "message length too large: found 104857601 bytes"
      assert {:status, 3, _} = raw_call!(socket, 4, "still framed")
      :gen_tcp.close(socket)
    end

    test "a worker killed in the middle of a lane call: the caller gets an error in time, the pool replaces the worker, which offers the lane again" do
      [worker_id] = RealSnakepit.workers(:solo)
      os_pid = RealSnakepit.os_pid!(worker_id)
      %{port: old_port} = connection!(:solo)

      caller =
        Task.async(fn ->
          RealShowcase.telemetry_demo(
            delay_ms: 5_000,
            snakepit: [pool_name: :solo, timeout: 20_000]
          )
        end)

      # The call is in the worker (its GRPCWorker has it pending) before the kill.
      RealSnakepit.poll!(5_000, "the call to reach the worker", fn ->
        {:ok, pid} = Snakepit.Pool.Registry.get_worker_pid(worker_id)

        if map_size(:sys.get_state(pid).pending_rpc_calls) > 0,
          do: {:ok, :pending},
          else: {:retry, :none}
      end)

      System.cmd("kill", ["-9", "#{os_pid}"])
      started = System.monotonic_time(:millisecond)
      assert {:error, _} = Task.await(caller, 20_000)
      assert System.monotonic_time(:millisecond) - started < 5_000

      new_connection = await_new_solo_worker!(os_pid)
      RealSnakepit.await_pools!()
      assert new_connection.port != old_port
      assert Process.alive?(new_connection.lane.connection)

      assert {:ok, %{"message" => "again"}} =
               RealShowcase.ping(message: "again", snakepit: [pool_name: :solo])
    end

    test "a worker killed during a stream: the caller gets the error snakepit's gRPC stream ends with, on either lane" do
      results =
        for pool <- [:solo, :solo_grpc] do
          [worker_id] = RealSnakepit.workers(pool)
          os_pid = RealSnakepit.os_pid!(worker_id)
          parent = self()

          caller =
            Task.async(fn ->
              Snakepit.execute_stream(
                "stream_data",
                %{"count" => 200, "delay" => 0.05},
                fn chunk -> send(parent, {:chunk, pool, chunk}) end,
                pool_name: pool,
                timeout: 30_000
              )
            end)

          assert_receive {:chunk, ^pool, _}, 10_000
          System.cmd("kill", ["-9", "#{os_pid}"])
          started = System.monotonic_time(:millisecond)
          result = Task.await(caller, 20_000)
          assert System.monotonic_time(:millisecond) - started < 5_000
          await_new_worker!(pool, os_pid)
          RealSnakepit.await_pools!()

          case result do
            {:error, %Snakepit.Error{details: details} = error} ->
              {pool, {error.category, error.message, Map.delete(details, :worker_id)}}

            other ->
              {pool, other}
          end
        end

      # elixir-grpc's error for the broken HTTP/2 stream (the lane's for its closed socket) and
      # the GRPCWorker's answer when it sees its worker's process exit race, on either lane.
      broken_stream =
        {:worker, "Request failed",
         %{
           command: "stream_data",
           reason: %GRPC.RPCError{status: 13, message: ":stream_error: :closed", details: nil}
         }}

      worker_exit = {:worker, "Worker shutting down", %{reason: {:grpc_server_exited, 137}}}

      without_pool = fn {category, message, details} ->
        {category, message, Map.delete(details, :pool)}
      end

      assert without_pool.(results[:solo]) in [broken_stream, worker_exit]
      assert without_pool.(results[:solo_grpc]) in [broken_stream, worker_exit]
    end

    test "a caller killed while it reads the lane: the next calls are answered (over gRPC until the dead read has taken its frame), then the lane serves again" do
      [worker_id] = RealSnakepit.workers(:solo)
      session = RealSnakepit.session_id!(worker_id)
      %{lane: lane} = connection!(:solo)
      parent = self()

      reader =
        spawn(fn ->
          send(parent, :reading)

          SnakepitBridge.Lane.execute(
            lane,
            session,
            "telemetry_demo",
            %{"delay_ms" => 1_500},
            10_000,
            []
          )
        end)

      assert_receive :reading
      # In its read: the worker has the call.
      RealSnakepit.poll!(5_000, "the reader to wait in its read", fn ->
        case Process.info(reader, :current_function) do
          {:current_function, {:prim_inet, :recv0, _}} -> {:ok, :reading}
          other -> {:retry, other}
        end
      end)

      Process.exit(reader, :kill)

      assert {:ok, %{"message" => "while the dead read waits"}} =
               RealShowcase.ping(
                 message: "while the dead read waits",
                 snakepit: [pool_name: :solo]
               )

      assert :ets.member(lane.handle.lock, :check), "the dead read has not had its frame yet"

      # The killed caller's answer arrives and goes to the dead read; the lane is used again.
      RealSnakepit.poll!(10_000, "the lane to serve again", fn ->
        assert {:ok, _} = RealShowcase.ping(message: "again", snakepit: [pool_name: :solo])
        if :ets.member(lane.handle.lock, :check), do: {:retry, :busy}, else: {:ok, :free}
      end)

      assert {:ok, %{"message" => "on the lane"}} =
               SnakepitBridge.Lane.execute(
                 lane,
                 session,
                 "ping",
                 %{"message" => "on the lane"},
                 5_000,
                 []
               )
    end

    test "a lane closed while its worker lives: the worker's calls go over gRPC, with the same answers" do
      [worker_id] = RealSnakepit.workers(:solo)
      os_pid = RealSnakepit.os_pid!(worker_id)
      %{lane: lane} = connection!(:solo)
      ref = Process.monitor(lane.connection)
      SnakepitBridge.Lane.Connection.close(lane.connection)
      assert_receive {:DOWN, ^ref, :process, _, _}, 5_000

      assert {:ok, %{"message" => "over grpc"}} =
               RealShowcase.ping(message: "over grpc", snakepit: [pool_name: :solo])

      assert {:ok, [%{"index" => 1}, %{"index" => 2, "is_final" => true}]} =
               stream(:solo, "stream_data", %{"count" => 2, "delay" => 0.0})

      # Back to a worker on the lane for the other tests.
      System.cmd("kill", ["-9", "#{os_pid}"])
      await_new_solo_worker!(os_pid)
      RealSnakepit.await_pools!()
    end
  end
end
