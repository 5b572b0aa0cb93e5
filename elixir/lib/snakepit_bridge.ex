defmodule SnakepitBridge do
  @moduledoc """
  Rust workers in snakepit pools, and typed Elixir functions for their tools.

    * `SnakepitBridge.Adapter` launches a Rust worker built with snakepit-bridge in a snakepit
      pool (`use SnakepitBridge.Adapter, executable: ...` for one adapter per worker);
    * `SnakepitBridge.Tools` generates documented, typed functions for the worker's tools from
      its manifest (`WORKER_EXE --snakepit-describe`);
    * `mix snakepit_bridge.describe` writes that manifest, `mix snakepit_bridge.check` fails
      CI when the committed one no longer matches the worker;
    * `SnakepitBridge.ElixirTools` declares Elixir tools for the workers to call back
      (`deftool`), registered for every worker of a pool with `elixir_tools:`, checked on
      arrival; `mix snakepit_bridge.elixir_manifest` writes their manifest, which a Rust
      `#[elixir_tools]` trait is checked against at `cargo build`;
    * `SnakepitBridge.Cluster` makes pools reachable from every node of a BEAM cluster
      (`:pg`), and the generated functions' `route:` option chooses the node;
    * `pool_config/2` and `snakepit_config/2` below build snakepit's configuration.

  See the README for a walk-through.
  """

  # snakepit v0.13's heartbeat defaults (lib/snakepit/defaults.ex heartbeat_*), spelled out so
  # the pool's configuration says what it runs with.
  @heartbeat %{enabled: true, ping_interval_ms: 2_000, timeout_ms: 10_000, dependent: true}

  @pool_keys [
    :adapter,
    :pool_size,
    :args,
    :env,
    :heartbeat,
    :worker_ttl,
    :worker_max_requests,
    :affinity,
    :startup_batch_size,
    :startup_batch_delay_ms,
    :elixir_tools,
    :cluster
  ]

  @doc """
  One entry of `config :snakepit, pools: [...]` for a pool of Rust workers named `name`.

  Options:

    * `:adapter` - the adapter module, `SnakepitBridge.Adapter` (the application-wide worker)
      by default, or a module defined with `use SnakepitBridge.Adapter`;
    * `:pool_size` - the number of workers, `System.schedulers_online()` by default;
    * `:args` - arguments for the worker, before snakepit's own flags (the pool's
      `adapter_args`, which take the place of the adapter's `args`);
    * `:env` - extra environment for the workers, `[{"RUST_LOG", "info"}]`;
    * `:heartbeat` - merged into `#{inspect(@heartbeat)}`;
    * `:elixir_tools` - modules with `use SnakepitBridge.ElixirTools` whose tools are
      registered, exposed to workers, in the sessions of every worker of the pool as it starts
      (see `SnakepitBridge.ElixirTools`); a module that declares no tools, or two modules that
      declare one tool name, raise `ArgumentError` here;
    * `:cluster` - `true` to advertise the pool to the other nodes of a BEAM cluster when
      `SnakepitBridge.Cluster` runs on this node (see `SnakepitBridge.Cluster`);
    * `:worker_ttl`, `:worker_max_requests`, `:affinity`, `:startup_batch_size`,
      `:startup_batch_delay_ms` - passed to snakepit as they are.

  The pool uses the `:process` worker profile (the `:thread` profile launches Python's
  threaded server, lib/snakepit/worker_profile/thread.ex).

      iex> SnakepitBridge.pool_config(:showcase, pool_size: 2, env: [{"RUST_LOG", "info"}])
      %{
        name: :showcase,
        worker_profile: :process,
        pool_size: 2,
        adapter_module: SnakepitBridge.Adapter,
        adapter_env: [{"RUST_LOG", "info"}],
        heartbeat: %{enabled: true, ping_interval_ms: 2000, timeout_ms: 10000, dependent: true}
      }
  """
  @spec pool_config(atom(), keyword()) :: map()
  def pool_config(name, opts \\ []) when is_atom(name) do
    case Keyword.keys(opts) -- @pool_keys do
      [] ->
        :ok

      [key | _] ->
        raise ArgumentError,
              "SnakepitBridge.pool_config/2: unknown option #{inspect(key)}" <>
                SnakepitBridge.Tools.Runtime.did_you_mean(key, @pool_keys) <>
                "; options are #{Enum.map_join(@pool_keys, ", ", &inspect/1)}"
    end

    adapter = Keyword.get(opts, :adapter, SnakepitBridge.Adapter)

    if not (is_atom(adapter) and Code.ensure_loaded?(adapter) and
              function_exported?(adapter, :executable_path, 0)) do
      raise ArgumentError,
            "SnakepitBridge.pool_config/2: :adapter must be SnakepitBridge.Adapter or a module " <>
              "defined with `use SnakepitBridge.Adapter`, got #{inspect(adapter)}"
    end

    heartbeat = Map.merge(@heartbeat, Map.new(Keyword.get(opts, :heartbeat, %{})))
    elixir_tools = Keyword.get(opts, :elixir_tools, [])

    if not is_list(elixir_tools) do
      raise ArgumentError,
            "SnakepitBridge.pool_config/2: :elixir_tools must be a list of modules, got " <>
              inspect(elixir_tools)
    end

    # Raises for a module that is not one, and for a tool name declared twice.
    _ = SnakepitBridge.ElixirTools.registrations(elixir_tools)

    %{
      name: name,
      worker_profile: :process,
      pool_size: Keyword.get(opts, :pool_size, System.schedulers_online()),
      adapter_module: adapter,
      heartbeat: heartbeat
    }
    |> put_present(:adapter_args, opts[:args] && Enum.map(opts[:args], &to_string/1))
    |> put_present(:adapter_env, opts[:env])
    |> put_present(:elixir_tools, if(elixir_tools != [], do: elixir_tools))
    |> put_present(:cluster, cluster!(opts))
    |> Map.merge(
      Map.new(
        Keyword.take(
          opts,
          @pool_keys -- [:adapter, :pool_size, :args, :env, :heartbeat, :elixir_tools, :cluster]
        )
      )
    )
  end

  @doc """
  The whole `config :snakepit` for `pools` (built with `pool_config/2`): pooling on, and the
  global `adapter_module` set to the first pool's adapter, since `Snakepit.execute_stream/4`
  asks the *global* adapter whether it streams (lib/snakepit.ex execute_stream/4). `extra`
  is merged in last.

  Call it in `config/runtime.exs`, where this package's modules are loaded:

      import Config

      config :snakepit,
             SnakepitBridge.snakepit_config([
               SnakepitBridge.pool_config(:showcase, adapter: MyApp.ShowcaseAdapter, pool_size: 4)
             ])
  """
  @spec snakepit_config([map()], keyword()) :: keyword()
  def snakepit_config([first | _] = pools, extra \\ []) do
    Keyword.merge(
      [pooling_enabled: true, adapter_module: first.adapter_module, pools: pools],
      extra
    )
  end

  defp cluster!(opts) do
    case Keyword.get(opts, :cluster, false) do
      true ->
        true

      false ->
        nil

      other ->
        raise ArgumentError,
              "SnakepitBridge.pool_config/2: :cluster must be true or false, got #{inspect(other)}"
    end
  end

  defp put_present(map, _key, nil), do: map
  defp put_present(map, key, value), do: Map.put(map, key, value)
end
