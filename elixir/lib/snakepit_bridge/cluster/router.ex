defmodule SnakepitBridge.Cluster.Router do
  @moduledoc false
  # Where a call runs, as plain functions of what the caller knows: the route it asked for and
  # the pool's members (`candidate/0`), already filtered to those connected and declaring the
  # tool as the caller's bindings do. No process, no network: SnakepitBridge.Cluster gathers the
  # candidates and calls `choose/3`.

  @typedoc """
  One member of a pool's group as the router sees it: `load` is the calls it runs or queues
  (its own report, or this node's calls in flight there when that is more), `size` its pool's
  workers.
  """
  @type candidate :: %{
          required(:node) => node(),
          required(:pid) => pid(),
          required(:load) => non_neg_integer(),
          required(:size) => pos_integer(),
          optional(atom()) => term()
        }

  @typedoc "A call's `route:` option (see `SnakepitBridge.Tools`)."
  @type route :: :local | :cluster | {:node, node()} | {:key, term()}

  @doc false
  # Whether `route` is one the generated functions accept.
  @spec valid_route?(term()) :: boolean()
  def valid_route?(route) when route in [:local, :cluster], do: true
  def valid_route?({:node, node}) when is_atom(node) and not is_nil(node), do: true
  def valid_route?({:key, _key}), do: true
  def valid_route?(_route), do: false

  @doc false
  # The member a call with `route` goes to, or `:none`.
  #
  #   * `:cluster`: this node's member while it has a free worker (load below size), else the
  #     least loaded per worker; ties go to this node, then to the lower node name;
  #   * `{:node, node}`: that node's member;
  #   * `{:key, key}`: rendezvous hashing (highest random weight): each member scores
  #     `phash2({key, node})` and the highest wins, so a key keeps its node while that node is a
  #     member, and only the keys of a node that leaves move (to their next-highest member).
  @spec choose(route(), [candidate()], node()) :: {:ok, candidate()} | :none
  def choose(_route, [], _self), do: :none

  def choose(:cluster, candidates, self) do
    case Enum.find(candidates, &(&1.node == self)) do
      %{load: load, size: size} = local when load < size ->
        {:ok, local}

      _ ->
        {:ok, Enum.min_by(candidates, &{&1.load / &1.size, &1.node != self, &1.node})}
    end
  end

  def choose({:node, node}, candidates, _self) do
    case Enum.find(candidates, &(&1.node == node)) do
      nil -> :none
      candidate -> {:ok, candidate}
    end
  end

  def choose({:key, key}, candidates, _self) do
    {:ok, Enum.max_by(candidates, &{score(key, &1.node), &1.node})}
  end

  @doc false
  # A member's rendezvous score for `key`.
  @spec score(term(), node()) :: non_neg_integer()
  def score(key, node), do: :erlang.phash2({key, node}, 4_294_967_296)
end
