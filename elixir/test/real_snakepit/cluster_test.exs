defmodule SnakepitBridge.RealSnakepit.ClusterTest do
  # Pools across a BEAM cluster: this VM (node A, the suite's pools) and peer nodes started
  # with OTP's :peer on loopback distribution, each with real snakepit and Rust workers.
  use ExUnit.Case, async: false

  import ExUnit.CaptureLog

  alias SnakepitBridge.Test.{ClusterPeers, RealShowcase, RealShowcaseAdapter, RealSnakepit}

  @moduletag :real_snakepit
  @moduletag timeout: 300_000

  setup_all do
    RealSnakepit.ensure_started!()
    ClusterPeers.distribute!()
    start_supervised!({SnakepitBridge.Cluster, pools: [:showcase]})

    showcase =
      &SnakepitBridge.pool_config(&1, adapter: RealShowcaseAdapter, pool_size: 1, cluster: true)

    # B: the showcase worker in :showcase (as on A) and in :b_only (no other node has it).
    {_, b} = ClusterPeers.start_peer!("b", [showcase.(:showcase), showcase.(:b_only)])

    # C: pool :showcase, but of another worker (the payload worker: other tools).
    {_, c} =
      ClusterPeers.start_peer!("c", [
        SnakepitBridge.pool_config(:showcase,
          adapter: SnakepitBridge.Test.RealPayloadAdapter,
          pool_size: 1,
          args: RealSnakepit.payload_args(),
          cluster: true
        )
      ])

    ClusterPeers.await_members!(:showcase, [node(), b, c])
    ClusterPeers.await_members!(:b_only, [b])
    %{b: b, c: c}
  end

  test "a call routed to another node's pool answers as the local call does", %{b: b} do
    remote = [route: {:node, b}]
    here = node()

    assert {{:ok, %{"message" => "hi"}}, ^b} =
             ClusterPeers.served_by([here, b], :showcase, fn ->
               RealShowcase.ping(message: "hi", snakepit: remote)
             end)

    assert RealShowcase.basic_add(2, 3, snakepit: remote) == RealShowcase.basic_add(2, 3)

    # Errors come back as the same structs, with the same messages.
    {:error, local_error} = RealShowcase.error_demo(error_type: "value")
    {:error, remote_error} = RealShowcase.error_demo(error_type: "value", snakepit: remote)

    assert %Snakepit.Error{details: %{reason: %Snakepit.Error.ValueError{} = remote_reason}} =
             remote_error

    assert %{remote_error | details: nil} == %{local_error | details: nil}
    # The session the worker ran the call in is the serving node's.
    drop_session = &Map.update!(&1, :context, fn context -> Map.delete(context, "session_id") end)
    assert drop_session.(remote_reason) == drop_session.(local_error.details.reason)
    assert Map.delete(remote_error.details, :reason) == Map.delete(local_error.details, :reason)

    # Binary parameters and results are carried as they are.
    data = :crypto.strong_rand_bytes(70_000)

    assert RealShowcase.process_binary(data, operation: "checksum", snakepit: remote) ==
             RealShowcase.process_binary(data, operation: "checksum")

    # A stream: every chunk, in order, to the callback on this node.
    collect = fn opts ->
      me = self()

      :ok =
        RealShowcase.stream_data([count: 25, delay: 0.0, snakepit: opts], &send(me, {:chunk, &1}))

      for _ <- 1..25, do: assert_receive({:chunk, chunk}, 5_000) && chunk
    end

    local_chunks = collect.([])
    remote_chunks = collect.(remote)
    refute_received {:chunk, _}

    assert Enum.map(remote_chunks, &Map.drop(&1, ["timestamp"])) ==
             Enum.map(local_chunks, &Map.drop(&1, ["timestamp"]))

    # The callback's :halt stops the stream there too, and a callback that raises gives the
    # error a local stream gives.
    halting = fn opts ->
      counter = :counters.new(1, [])

      result =
        RealShowcase.stream_data([count: 25, delay: 0.0, snakepit: opts], fn _chunk ->
          :counters.add(counter, 1, 1)
          if :counters.get(counter, 1) == 3, do: :halt, else: :ok
        end)

      {result, :counters.get(counter, 1)}
    end

    local_halt = halting.([])
    assert {_, 3} = local_halt
    assert halting.(remote) == local_halt

    raising = fn opts ->
      RealShowcase.stream_data([count: 5, delay: 0.0, snakepit: opts], fn _ -> raise "boom" end)
    end

    assert {:error, %Snakepit.Error{} = local_raise} = raising.([])
    assert {:error, %Snakepit.Error{} = remote_raise} = raising.(remote)
    assert remote_raise.category == local_raise.category
    assert remote_raise.message == local_raise.message
    refute_received {:chunk, _}
  end

  test "route: :cluster reaches a pool that only another node has, and prefers this node's own",
       %{b: b} do
    here = node()

    assert {{:ok, %{"message" => "b"}}, ^b} =
             ClusterPeers.served_by([b], :b_only, fn ->
               RealShowcase.ping(message: "b", snakepit: [route: :cluster, pool_name: :b_only])
             end)

    # Not on this node: the local route does not find it.
    assert {:error, %Snakepit.Error{}} = RealShowcase.ping(snakepit: [pool_name: :b_only])

    # This node's :showcase pool has free workers: the call stays here.
    for _ <- 1..5 do
      assert {{:ok, _}, ^here} =
               ClusterPeers.served_by([here, b], :showcase, fn ->
                 RealShowcase.ping(snakepit: [route: :cluster])
               end)
    end
  end

  test "{:key, key} sends a key to one node every time, and keys spread over the nodes",
       %{b: b} do
    nodes = [node(), b]

    placement =
      for key <- 1..16, into: %{} do
        served =
          for _ <- 1..3 do
            {{:ok, _}, node} =
              ClusterPeers.served_by(nodes, :showcase, fn ->
                RealShowcase.ping(snakepit: [route: {:key, {:session, key}}])
              end)

            node
          end

        assert [_one] = Enum.uniq(served), "key #{key} went to #{inspect(served)}"
        {key, hd(served)}
      end

    # The payload worker's node C declares no `ping`: never chosen. Both others get keys
    # (16 keys all on one of two nodes: a chance of 2^-15).
    assert placement |> Map.values() |> Enum.uniq() |> Enum.sort() == Enum.sort(nodes)
  end

  test "a node whose worker has other tools is not chosen for them, logged once", %{c: c} do
    log =
      capture_log(fn ->
        for _ <- 1..3 do
          assert {:error, %Snakepit.Error{category: :pool} = error} =
                   RealShowcase.adapter_info(snakepit: [route: {:node, c}])

          # The worker's name is its executable's (payload_worker).
          assert error.message =~ ~r/#{c} \(its worker \([^)]+\) has no tool `adapter_info`\)/
        end

        # With a route that has another choice, the call goes there.
        assert {:ok, %{"adapter_name" => "ShowcaseAdapter"}} =
                 RealShowcase.adapter_info(snakepit: [route: :cluster])
      end)

    assert length(String.split(log, "is not chosen for tool `adapter_info`")) == 2, log
  end

  test "bindings that declare a tool otherwise than every node's worker reach no node", %{b: b} do
    capture_log(fn ->
      assert {:error, %Snakepit.Error{category: :pool} = error} =
               SnakepitBridge.Test.ChangedPing.ping(snakepit: [route: :cluster])

      for node <- [node(), b] do
        assert error.message =~
                 ~r/#{node} \(its worker \([^)]+\) declares tool `ping` otherwise than the caller's bindings\)/
      end
    end)
  end

  test "no member for a pool: an error naming the pool, the route and the nodes looked at",
       %{b: b} do
    assert {:error, %Snakepit.Error{category: :pool} = error} =
             RealShowcase.ping(snakepit: [route: :cluster, pool_name: :nowhere])

    assert error.message =~ "no member of pool :nowhere's group"
    assert error.message =~ "no node has it in its group"

    assert {:error, %Snakepit.Error{category: :pool} = error} =
             RealShowcase.ping(snakepit: [route: {:node, :"gone@127.0.0.1"}])

    assert error.message =~ "with route {:node, :\"gone@127.0.0.1\"}"
    assert error.message =~ "#{b} (a member, not the one asked for)"
  end

  test "a node that goes down: the call in flight returns an error naming it, the next calls go elsewhere" do
    {peer, d} =
      ClusterPeers.start_peer!("d", [
        SnakepitBridge.pool_config(:d_pool, adapter: RealShowcaseAdapter, cluster: true),
        SnakepitBridge.pool_config(:showcase,
          adapter: RealShowcaseAdapter,
          pool_size: 1,
          cluster: true
        )
      ])

    ClusterPeers.await_members!(:d_pool, [d])

    # A stream in flight on D (a chunk every 200 ms for 20 s) when D stops.
    me = self()

    streamer =
      Task.async(fn ->
        RealShowcase.stream_data(
          [count: 100, delay: 0.2, snakepit: [route: {:node, d}, pool_name: :d_pool]],
          &send(me, {:chunk, &1})
        )
      end)

    assert_receive {:chunk, _}, 20_000

    # Callers keep calling, D among the others (route {:key, _} picks D for some keys), until
    # 20 calls each after D is gone; each call is tagged with whether D was down before it
    # began.
    down = :atomics.new(1, [])

    callers =
      for i <- 1..4 do
        Task.async(fn -> call_until_after(down, i, 0, 0, []) end)
      end

    # Some calls went to D before it stops.
    RealSnakepit.poll!(20_000, "calls served by D", fn ->
      served = ClusterPeers.requests(d, :showcase)
      if served >= 3, do: {:ok, served}, else: {:retry, served}
    end)

    ClusterPeers.halt_peer!(peer, d)
    :atomics.put(down, 1, 1)

    assert {:error, %Snakepit.Error{} = error} = Task.await(streamer, 15_000)
    assert error.message =~ "node #{d} went down"

    # No call is lost silently: each answers, or says which node failed it; and every call
    # begun once D was down answers.
    results = Enum.flat_map(callers, &Task.await(&1, 60_000))

    for {after_down?, result} <- results do
      case result do
        {:ok, %{"message" => "pong"}} ->
          :ok

        {:error, %Snakepit.Error{message: message}} ->
          assert message =~ "#{d}" and not after_down?
      end
    end

    assert Enum.count(results, &elem(&1, 0)) == 80

    # Once D has left the groups, every call answers.
    ClusterPeers.await_members!(:d_pool, [])

    for j <- 1..10 do
      assert {:ok, _} = RealShowcase.ping(snakepit: [route: {:key, {:after, j}}])
    end

    assert {:error, %Snakepit.Error{category: :pool}} =
             RealShowcase.ping(snakepit: [route: :cluster, pool_name: :d_pool])
  end

  defp call_until_after(down, i, j, after_count, acc) do
    after_down? = :atomics.get(down, 1) == 1

    if after_count == 20 do
      acc
    else
      result = RealShowcase.ping(snakepit: [route: {:key, {i, j}}])
      count = if after_down?, do: after_count + 1, else: after_count
      call_until_after(down, i, j + 1, count, [{after_down?, result} | acc])
    end
  end

  test "a node that stops answering: the call returns a timeout error within its timeout plus 5 s" do
    {_peer, e} =
      ClusterPeers.start_peer!("e", [
        SnakepitBridge.pool_config(:e_pool,
          adapter: RealShowcaseAdapter,
          pool_size: 1,
          cluster: true
        )
      ])

    ClusterPeers.await_members!(:e_pool, [e])
    os_pid = :erpc.call(e, System, :pid, [])
    route = [route: :cluster, pool_name: :e_pool, timeout: 1_000]
    assert {:ok, _} = RealShowcase.ping(snakepit: route)

    # The VM frozen (SIGSTOP): connected, but nothing runs there.
    {_, 0} = System.cmd("kill", ["-STOP", os_pid])
    on_exit(fn -> System.cmd("kill", ["-CONT", os_pid]) end)

    started = System.monotonic_time(:millisecond)

    assert {:error, %Snakepit.Error{category: :timeout} = error} =
             RealShowcase.ping(snakepit: route)

    waited = System.monotonic_time(:millisecond) - started

    assert error.message =~ "tool `ping` on pool :e_pool of node #{e} did not answer"
    assert waited >= 6_000 and waited < 20_000, "waited #{waited} ms"
  end
end
