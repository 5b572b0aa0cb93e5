defmodule SnakepitBridge.Tools.CallOptions do
  @moduledoc false
  # The call options of the generated functions (under `snakepit:`), in one table that the
  # `SnakepitBridge.Tools.call_options/0` type, the checks before a call and the module's docs
  # all read: each option's name, typespec, check, what a value must be (for errors) and what
  # it does.
  #
  # snakepit's own: `:timeout`, `:session_id`, `:affinity`, `:pool` (the pool process) in
  # lib/snakepit.ex; `:pool_name` (which configured pool) and `:checkout_timeout` (streaming)
  # in lib/snakepit/pool/pool.ex; `:correlation_id` and `:thread_sensitive` in
  # lib/snakepit/grpc/client_impl.ex. `:route` is this package's (SnakepitBridge.Cluster): it
  # is taken out before snakepit sees the options.

  @schema [
    timeout: %{
      spec: quote(do: pos_integer() | :infinity),
      check: &__MODULE__.timeout?/1,
      kind: "a positive integer (milliseconds) or :infinity",
      doc: "the call's deadline (snakepit's default: 60 s, 300 s for a stream)"
    },
    session_id: %{
      spec: quote(do: String.t()),
      check: &is_binary/1,
      kind: "a string",
      doc: "the snakepit session to run in (worker affinity)"
    },
    pool_name: %{
      spec: quote(do: atom()),
      check: &__MODULE__.pool_name?/1,
      kind: "an atom (a pool's name)",
      doc: "which configured pool (overrides `use`'s `:pool`)"
    },
    pool: %{
      spec: quote(do: atom() | pid()),
      check: &__MODULE__.pool?/1,
      kind: "a pool process (a name or a pid)",
      doc: "the pool process (`Snakepit.Pool` by default)"
    },
    affinity: %{
      spec: quote(do: :hint | :strict_queue | :strict_fail_fast),
      check: &__MODULE__.affinity?/1,
      kind: "one of :hint, :strict_queue, :strict_fail_fast",
      doc: "how strictly a session keeps its worker"
    },
    correlation_id: %{
      spec: quote(do: String.t()),
      check: &is_binary/1,
      kind: "a string",
      doc: "the id the call's logs and telemetry carry"
    },
    thread_sensitive: %{
      spec: quote(do: boolean()),
      check: &is_boolean/1,
      kind: "a boolean",
      doc: "passed to the worker as snakepit passes it"
    },
    checkout_timeout: %{
      spec: quote(do: pos_integer()),
      check: &__MODULE__.positive?/1,
      kind: "a positive integer (milliseconds)",
      doc: "how long a stream waits for a free worker"
    },
    route: %{
      spec: quote(do: :local | :cluster | {:node, node()} | {:key, term()}),
      check: &SnakepitBridge.Cluster.Router.valid_route?/1,
      kind: "one of :local, :cluster, {:node, node}, {:key, term} (see SnakepitBridge.Cluster)",
      doc:
        "where the call runs: `:local` (this node's snakepit, the default), `:cluster`, " <>
          "`{:node, node}` or `{:key, term}`, a pool on another node of a BEAM cluster (see " <>
          "`SnakepitBridge.Cluster`)"
    }
  ]

  @names Keyword.keys(@schema)

  @doc false
  def names, do: @names

  @doc false
  # The keyword list type of the options, as a typespec.
  def typespec do
    [Enum.map(@schema, fn {name, %{spec: spec}} -> {name, spec} end) |> union()]
  end

  defp union(entries) do
    entries |> Enum.reverse() |> Enum.reduce(fn entry, acc -> {:|, [], [entry, acc]} end)
  end

  @doc false
  # The options as a Markdown list, for the docs.
  def doc do
    Enum.map_join(@schema, "\n", fn {name, %{doc: doc}} -> "  * `#{inspect(name)}` - #{doc};" end)
    |> String.replace_suffix(";", ".")
  end

  @doc false
  # :ok, or {:error, message} for an option that is unknown or whose value does not fit.
  def check(key, value) do
    case Keyword.fetch(@schema, key) do
      {:ok, %{check: check, kind: kind}} ->
        if check.(value), do: :ok, else: {:error, {:kind, kind}}

      :error ->
        {:error, :unknown}
    end
  end

  @doc false
  def timeout?(value), do: value == :infinity or positive?(value)
  @doc false
  def positive?(value), do: is_integer(value) and value > 0
  @doc false
  def pool_name?(value), do: is_atom(value) and not is_nil(value)
  @doc false
  def pool?(value), do: is_atom(value) or is_pid(value) or is_tuple(value)
  @doc false
  def affinity?(value), do: value in [:hint, :strict_queue, :strict_fail_fast]
end
