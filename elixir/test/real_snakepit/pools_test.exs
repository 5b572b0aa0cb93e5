defmodule SnakepitBridge.RealSnakepit.PoolsTest do
  # Two pools of two different Rust workers side by side in one snakepit application: the
  # showcase worker and bench/payload_worker.rs, each through its own adapter
  # (`use SnakepitBridge.Adapter`) and its own bindings (`use SnakepitBridge.Tools`).
  use ExUnit.Case, async: false

  @moduletag :real_snakepit
  @moduletag timeout: 180_000

  alias SnakepitBridge.Test.{RealPayload, RealShowcase, RealSnakepit}

  setup_all do
    RealSnakepit.ensure_started!()
  end

  test "each pool runs its own worker binary" do
    for {pool, example} <- [
          showcase: "showcase_worker",
          solo: "showcase_worker",
          payload: "payload_worker"
        ],
        worker_id <- RealSnakepit.workers(pool) do
      pid = RealSnakepit.os_pid!(worker_id)
      assert {:ok, exe} = File.read_link("/proc/#{pid}/exe")
      assert Path.basename(exe) == example, "#{worker_id} (#{pool}) runs #{exe}"
    end
  end

  test "calls to both pools, at the same time, each answered by its worker" do
    calls =
      for n <- 1..20 do
        if rem(n, 2) == 0,
          do: fn -> {:payload, n, RealPayload.blob(n)} end,
          else: fn -> {:showcase, n, RealShowcase.basic_add(n, 1)} end
      end

    results =
      calls
      |> Task.async_stream(& &1.(), max_concurrency: 6, timeout: 10_000)
      |> Enum.map(fn {:ok, result} -> result end)

    for {pool, n, result} <- results do
      case pool do
        :payload -> assert result == {:ok, {:binary, :binary.copy(<<7>>, n)}}
        :showcase -> assert result == {:ok, n + 1.0}
      end
    end

    assert {:ok, [3, 1]} = RealPayload.consume(<<1, 2, 3>>)
    assert {:ok, payload} = RealPayload.payload(5)
    assert payload == "xxxxx"
  end

  test "a pool knows only its own worker's tools" do
    assert {:error, %Snakepit.Error{details: %{reason: %Snakepit.Error.AttributeError{}}}} =
             Snakepit.execute("blob", %{"size" => 1}, pool_name: :showcase)

    assert {:error, %Snakepit.Error{details: %{reason: %Snakepit.Error.AttributeError{}}}} =
             RealShowcase.ping(snakepit: [pool_name: :payload])
  end

  test "pool_config's :args and :env reach the worker process snakepit launches" do
    [worker_id] = RealSnakepit.workers(:payload)
    pid = RealSnakepit.os_pid!(worker_id)

    [exe | args] = File.read!("/proc/#{pid}/cmdline") |> String.split(<<0>>, trim: true)
    assert exe == RealSnakepit.worker!(:payload)
    # the pool's args first, then snakepit's own flags (lib/snakepit/worker/configuration.ex)
    assert Enum.take(args, 4) == RealSnakepit.payload_args() ++ ["--port", "0"]
    assert "--elixir-address" in args

    env = File.read!("/proc/#{pid}/environ") |> String.split(<<0>>, trim: true)

    for {key, value} <- RealSnakepit.payload_env() do
      assert "#{key}=#{value}" in env
    end

    assert Enum.any?(env, &String.starts_with?(&1, "SNAKEPIT_READY_FILE="))
  end

  test "the payload worker's committed manifest is what the worker describes now" do
    exe = RealSnakepit.worker!(:payload)
    path = "test/real_snakepit/fixtures/payload_worker_tools.json"
    {described, 0} = System.cmd(exe, ["--snakepit-describe"])

    assert Jason.decode!(described) == Jason.decode!(File.read!(path)),
           "#{path} is out of date: #{exe} --snakepit-describe > #{path}"
  end
end
