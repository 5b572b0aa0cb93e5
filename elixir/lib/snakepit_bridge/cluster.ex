defmodule SnakepitBridge.Cluster do
  @moduledoc """
  Pools of Rust workers reachable from every node of a BEAM cluster, through Erlang
  distribution and `:pg` process groups (OTP; no other dependency). snakepit v0.13 itself is
  per node: its workers, ports and registry stay on the node that runs them; this module only
  routes calls between nodes.

  ## Advertising a node's pools

  Mark the pools to share with `cluster: true` and start `SnakepitBridge.Cluster` in the
  application's supervision tree, on every node, including nodes that only call:

      # config/runtime.exs
      config :snakepit,
             SnakepitBridge.snakepit_config([
               SnakepitBridge.pool_config(:showcase, adapter: MyApp.ShowcaseAdapter, cluster: true)
             ])

      # lib/my_app/application.ex
      children = [SnakepitBridge.Cluster, ...]

  For each pool with `cluster: true` (or each pool of its `pools:` option), it starts a member
  that, while snakepit runs the pool, is in the pool's group with what a caller needs to choose
  it: the node, the pool's name and size, its current load (calls running or queued, reported
  as it changes, at most every 200 ms) and a signature of each tool the worker declares
  (`SnakepitBridge.Manifest.signature/1`), read from the worker binary itself
  (`--snakepit-describe`) when the member joins. A pool whose tools cannot be read is not
  advertised, and that is logged.

  ## Routing

  A generated function's call option `route:` (under `snakepit:`) chooses where the call runs:

    * `:local` (the default): this node's snakepit, exactly as `Snakepit.execute/3`;
    * `:cluster`: this node's member while its pool has a free worker, else the least loaded
      member (load per worker; a remote load is its last report, or this node's own calls in
      flight there when that is more);
    * `{:node, node}`: that node's member;
    * `{:key, key}`: the member that rendezvous hashing picks for `key`: the same key goes to
      the same node while the group's membership holds, and a node leaving moves only its own
      keys. Use it for session affinity (`session_id:` names a session of one node's snakepit).
      Keys are placed among the members that can take the tool: run the same worker on every
      node of a pool, or one key may land on different nodes for different tools.

  Only members whose worker declares the tool exactly as the calling module's bindings do
  (same signature), and whose pool has a worker ready, are chosen; one that differs is logged
  once per node, pool and tool. A call that goes to another node runs there through
  `Snakepit.execute/3` (or `execute_stream/4`), with the same options and the pool's name, and
  returns what it returns there, errors included; binary parameters and results are carried as
  they are. A stream's callback runs on the calling node, chunk by chunk, in order, each
  chunk sent when the callback has returned for the one before; `:halt` or `{:halt, reason}`
  ends the stream as it does locally, and an exception in the callback gives the error a
  local stream gives.

  ## Faults

    * A member whose node is no longer connected when the call is sent, or that refuses the
      spawn of the call's process outright, is passed over and the next choice is tried: the
      call had not started.
    * A call in flight when its node goes down returns `{:error, %Snakepit.Error{}}` naming the
      node as soon as the distribution connection drops, and is not sent elsewhere (it may have
      run). A node that stops answering without closing its connection (frozen, or a host
      gone from the network) is noticed by the call's own bound: a timeout error after the
      call's `:timeout` (the serving node's snakepit defaults when none is given, a stream's
      `:checkout_timeout` on top) plus 5 seconds, and the call's process there is stopped.
    * No member for the pool: `{:error, %Snakepit.Error{category: :pool}}` saying which pool,
      which route, and which nodes were looked at and why each was left out.

  Nothing is retried that may have run.
  """

  use Supervisor

  alias SnakepitBridge.Cluster.{Directory, Member, Remote, Router}

  # The :pg scope: a process of this name on each node, the scopes of connected nodes sharing
  # their groups.
  @scope :snakepit_bridge_cluster

  @typedoc "A member as `members/1` reports it."
  @type member :: %{
          node: node(),
          pool: atom(),
          pool_size: pos_integer(),
          load: non_neg_integer(),
          ready: non_neg_integer(),
          worker: String.t() | nil,
          tools: %{String.t() => non_neg_integer()}
        }

  @doc """
  Starts the cluster's processes on this node: the `:pg` scope, this node's directory of the
  groups, and a member for each advertised pool.

  Options: `:pools`, the names of this node's pools to advertise (by default those configured
  with `cluster: true` in `config :snakepit, pools: [...]`); `[]` on a node that only calls.
  """
  @spec start_link(keyword()) :: Supervisor.on_start()
  def start_link(opts \\ []) do
    Supervisor.start_link(__MODULE__, opts, name: __MODULE__)
  end

  @impl true
  def init(opts) do
    pools =
      Keyword.get_lazy(opts, :pools, fn ->
        for pool <- Application.get_env(:snakepit, :pools, []), pool[:cluster], do: pool.name
      end)

    if not (is_list(pools) and Enum.all?(pools, &is_atom/1)) do
      raise ArgumentError,
            "SnakepitBridge.Cluster: :pools must be a list of pool names, got #{inspect(pools)}"
    end

    children =
      [
        %{id: :pg, start: {:pg, :start_link, [@scope]}},
        {Directory, @scope}
      ] ++ Enum.map(pools, &{Member, {@scope, &1}})

    Supervisor.init(children, strategy: :rest_for_one)
  end

  @doc """
  The members of `pool`'s group as they answer now (each asked in turn, for at most
  `timeout` ms), this node's first.
  """
  @spec members(atom(), timeout()) :: [member()]
  def members(pool, timeout \\ 5_000) when is_atom(pool) do
    if not Directory.running?(), do: raise(ArgumentError, not_running())

    @scope
    |> :pg.get_members(Member.group(pool))
    |> Enum.flat_map(fn pid ->
      try do
        [Member.info(pid, timeout)]
      catch
        :exit, _ -> []
      end
    end)
    |> Enum.sort_by(&{&1.node != node(), &1.node})
  end

  @doc false
  # A generated function's call (SnakepitBridge.Tools.Runtime): `kind` is :execute or :stream,
  # `signature` the tool's declaration as the caller's bindings have it.
  def run(:local, kind, tool, _signature, args, opts, callback),
    do: local(kind, tool, args, opts, callback)

  def run({:node, node}, kind, tool, _signature, args, opts, callback) when node == node(),
    do: local(kind, tool, args, opts, callback)

  def run(route, kind, tool, signature, args, opts, callback) do
    pool = pool_name(opts, route)

    if Directory.running?() do
      {candidates, left_out} =
        Directory.candidates(@scope, pool, tool, signature, route == :cluster)

      # The group is the pool's name here: the serving node must run that pool, not its own
      # default one.
      opts = Keyword.put_new(opts, :pool_name, pool)
      dispatch(route, candidates, left_out, {kind, tool, args, opts, callback, pool})
    else
      {:error, Snakepit.Error.pool_error(not_running(), %{pool: pool, route: route})}
    end
  end

  defp dispatch(route, candidates, left_out, {kind, tool, args, opts, callback, pool} = call) do
    case Router.choose(route, candidates, node()) do
      :none ->
        {:error, no_member(route, pool, tool, candidates, left_out)}

      {:ok, %{node: node}} when node == node() ->
        local(kind, tool, args, opts, callback)

      {:ok, %{node: node, pid: pid} = chosen} ->
        outcome =
          if node in Node.list() do
            Directory.track(pid, fn ->
              Remote.run(node, kind, tool, args, opts, callback, pool)
            end)
          else
            {:not_started, :disconnected}
          end

        case outcome do
          # Gone since it was chosen, and nothing ran there: the next choice.
          {:not_started, reason} ->
            rest = List.delete(candidates, chosen)
            why = "not reached: #{inspect(reason)}"
            dispatch(route, rest, [{node, why} | left_out], call)

          answer ->
            answer
        end
    end
  end

  @doc false
  # The call on this node's snakepit: a local route's, and a remote call's on its node.
  def local(:execute, tool, args, opts, _callback), do: Snakepit.execute(tool, args, opts)

  def local(:stream, tool, args, opts, callback),
    do: Snakepit.execute_stream(tool, args, callback, opts)

  defp pool_name(opts, route) do
    with nil <- Keyword.get(opts, :pool_name),
         nil <- Application.get_env(:snakepit, :pools, []) |> List.first() |> then(& &1[:name]) do
      raise ArgumentError,
            "route: #{inspect(route)} needs the pool's name: give `pool:` to " <>
              "`use SnakepitBridge.Tools`, or `pool_name:` in the call options"
    end
  end

  defp no_member(route, pool, tool, candidates, left_out) do
    seen =
      Enum.map(candidates, &"#{&1.node} (a member, not the one asked for)") ++
        Enum.map(Enum.reverse(left_out), fn {node, why} -> "#{node} (#{why})" end)

    looked =
      case seen do
        [] -> "no node has it in its group"
        list -> "looked at: " <> Enum.join(list, "; ")
      end

    Snakepit.Error.pool_error(
      "no member of pool #{inspect(pool)}'s group can take tool `#{tool}` with route " <>
        "#{inspect(route)}: #{looked}. A pool joins the group when its node runs " <>
        "SnakepitBridge.Cluster and the pool has `cluster: true`",
      %{pool: pool, route: route, tool: tool, nodes: Enum.map(left_out, &elem(&1, 0))}
    )
  end

  defp not_running,
    do:
      "SnakepitBridge.Cluster is not running on node #{node()}: add it to the application's " <>
        "supervision tree (children = [SnakepitBridge.Cluster, ...]) to route calls off this node"
end
