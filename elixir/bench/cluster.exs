# What a call to a pool on another BEAM node costs over a call to this node's pool, and what a
# second node's pool adds to the throughput of callers on this node. Real snakepit on both
# nodes (the second one a peer started with OTP's :peer on loopback distribution), the Rust
# showcase worker in each pool, the generated functions of SnakepitBridge.Test.RealShowcase.
#
#   source /tmp/snakepit-vendor/snakepit-0.13.0/env.sh
#   cd elixir && MIX_ENV=test mix run bench/cluster.exs
#
# Variants run interleaved, in rounds, in a rotating order, so drift on the machine touches
# every variant alike. Environment: CLUSTER_BENCH_ROUNDS (10), CLUSTER_BENCH_CALLS (200 calls
# per variant and round), CLUSTER_BENCH_SECONDS (2 s per throughput run), CLUSTER_BENCH_RUNS (5
# throughput runs per variant), CLUSTER_BENCH_POOL
# (2 workers per node).

alias SnakepitBridge.Test.{ClusterPeers, RealShowcase, RealShowcaseAdapter, RealSnakepit}

env_int = fn name, default -> String.to_integer(System.get_env(name, "#{default}")) end
rounds = env_int.("CLUSTER_BENCH_ROUNDS", 10)
calls = env_int.("CLUSTER_BENCH_CALLS", 200)
seconds = env_int.("CLUSTER_BENCH_SECONDS", 2)
pool_size = env_int.("CLUSTER_BENCH_POOL", 2)
callers = 16
throughput_runs = env_int.("CLUSTER_BENCH_RUNS", 5)

Logger.configure(level: :warning)

pool =
  SnakepitBridge.pool_config(:bench,
    adapter: RealShowcaseAdapter,
    pool_size: pool_size,
    cluster: true
  )

ClusterPeers.distribute!()
:ok = RealSnakepit.start_pools([pool])
{:ok, _} = SnakepitBridge.Cluster.start_link(pools: [:bench])
{peer, b} = ClusterPeers.start_peer!("bench_b", [pool], cleanup: :manual)

try do
  ClusterPeers.await_members!(:bench, [node(), b])

  payload = String.duplicate("x", 65_536)

  latency = [
    {"ping, this node", fn -> RealShowcase.ping(snakepit: [pool_name: :bench]) end},
    {"ping, node B",
     fn -> RealShowcase.ping(snakepit: [pool_name: :bench, route: {:node, b}]) end},
    # The floor of a remote call: a bare :erpc of Snakepit.execute/3 on B, no routing.
    {"ping, node B, bare :erpc",
     fn -> :erpc.call(b, Snakepit, :execute, ["ping", %{}, [pool_name: :bench]]) end},
    {"64 KiB echo, this node",
     fn -> RealShowcase.echo(data: payload, snakepit: [pool_name: :bench]) end},
    {"64 KiB echo, node B",
     fn -> RealShowcase.echo(data: payload, snakepit: [pool_name: :bench, route: {:node, b}]) end}
  ]

  # Warm-up: each variant, every worker.
  for {_, fun} <- latency, _ <- 1..50, do: {:ok, _} = fun.()

  samples =
    Enum.reduce(1..rounds, %{}, fn round, acc ->
      order =
        Enum.drop(latency, rem(round, length(latency))) ++
          Enum.take(latency, rem(round, length(latency)))

      Enum.reduce(order, acc, fn {name, fun}, acc ->
        times =
          for _ <- 1..calls do
            {us, {:ok, _}} = :timer.tc(fun)
            us
          end

        Map.update(acc, name, times, &(times ++ &1))
      end)
    end)

  percentile = fn sorted, p ->
    Enum.at(sorted, min(length(sorted) - 1, floor(p * length(sorted))))
  end

  IO.puts("\n## Latency, one call in flight (#{rounds} rounds x #{calls} calls per variant)\n")
  IO.puts("| variant | median µs | p90 µs | p99 µs | median over this node's |")
  IO.puts("|---|---:|---:|---:|---:|")

  medians =
    for {name, _} <- latency, into: %{} do
      sorted = Enum.sort(samples[name])
      {name, percentile.(sorted, 0.5)}
    end

  for {name, _} <- latency do
    sorted = Enum.sort(samples[name])

    base =
      if name =~ "ping", do: medians["ping, this node"], else: medians["64 KiB echo, this node"]

    IO.puts(
      "| #{name} | #{percentile.(sorted, 0.5)} | #{percentile.(sorted, 0.9)} | " <>
        "#{percentile.(sorted, 0.99)} | #{Float.round(percentile.(sorted, 0.5) / base, 2)}x |"
    )
  end

  # Throughput: 16 callers on this node for `seconds`, on this node's pool alone or routed
  # over both nodes' pools (route: :cluster).
  throughput = fn route ->
    deadline = System.monotonic_time(:millisecond) + seconds * 1_000

    1..callers
    |> Enum.map(fn _ ->
      Task.async(fn ->
        Stream.repeatedly(fn ->
          RealShowcase.ping(snakepit: [pool_name: :bench, route: route])
        end)
        |> Stream.take_while(fn {:ok, _} -> System.monotonic_time(:millisecond) < deadline end)
        |> Enum.count()
      end)
    end)
    |> Enum.map(&Task.await(&1, (seconds + 30) * 1_000))
    |> Enum.sum()
    |> Kernel./(seconds)
  end

  variants = [
    {"this node's pool alone (route: :local)", :local},
    {"both nodes' pools (route: :cluster)", :cluster}
  ]

  results =
    Enum.reduce(1..throughput_runs, %{}, fn round, acc ->
      order = if rem(round, 2) == 0, do: Enum.reverse(variants), else: variants

      Enum.reduce(order, acc, fn {name, route}, acc ->
        before = ClusterPeers.requests(b, :bench)
        rate = throughput.(route)
        on_b = (ClusterPeers.requests(b, :bench) - before) / seconds

        acc
        |> Map.update(name, [rate], &[rate | &1])
        |> Map.update({:on_b, name}, [on_b / rate], &[on_b / rate | &1])
      end)
    end)

  IO.puts(
    "\n## Throughput, #{callers} callers on this node, ping, #{pool_size} workers per node (#{throughput_runs} runs of #{seconds} s each, alternating)\n"
  )

  IO.puts("| pools | calls/s, each run | median | over this node's alone | share served by B |")
  IO.puts("|---|---|---:|---:|---:|")

  median = fn list -> Enum.at(Enum.sort(list), div(length(list), 2)) end
  alone = median.(results["this node's pool alone (route: :local)"])

  for {name, _} <- variants do
    runs = Enum.reverse(results[name])

    IO.puts(
      "| #{name} | #{Enum.map_join(runs, ", ", &round/1)} | #{round(median.(runs))} | " <>
        "#{Float.round(median.(runs) / alone, 2)}x | " <>
        "#{round(100 * median.(results[{:on_b, name}]))}% |"
    )
  end

  IO.puts(
    "\n(#{System.schedulers_online()} schedulers online; node B is a peer VM on this machine)"
  )
after
  ClusterPeers.stop_peer(peer, b)
end
