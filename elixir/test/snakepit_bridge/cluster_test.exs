defmodule SnakepitBridge.ClusterTest do
  # Routing between the nodes of a cluster, without one: the router's choices as plain
  # functions, the route option as the generated functions check and send it, and the tool
  # signatures nodes compare. Calls between real nodes are in test/real_snakepit/cluster_test.exs.
  use ExUnit.Case, async: true

  alias SnakepitBridge.Cluster.Router
  alias SnakepitBridge.Manifest
  alias SnakepitBridge.Test.Showcase

  defp member(node, load, size \\ 2), do: %{node: node, pid: self(), load: load, size: size}

  describe "Router.choose/3" do
    test ":cluster keeps the call on this node while its pool has a free worker" do
      candidates = [member(:b@h, 0), member(:a@h, 1)]
      assert {:ok, %{node: :a@h}} = Router.choose(:cluster, candidates, :a@h)
    end

    test ":cluster goes to the least loaded member per worker once this node's pool is full" do
      candidates = [member(:a@h, 2), member(:b@h, 3, 4), member(:c@h, 2)]
      assert {:ok, %{node: :b@h}} = Router.choose(:cluster, candidates, :a@h)

      # A tie goes to this node, then to the lower node name.
      assert {:ok, %{node: :a@h}} =
               Router.choose(:cluster, [member(:c@h, 2), member(:a@h, 2)], :a@h)

      assert {:ok, %{node: :b@h}} =
               Router.choose(:cluster, [member(:c@h, 1), member(:b@h, 1)], :a@h)
    end

    test ":cluster with no member on this node takes the least loaded" do
      assert {:ok, %{node: :c@h}} =
               Router.choose(:cluster, [member(:b@h, 5), member(:c@h, 0)], :a@h)
    end

    test "{:node, node} takes that node's member or none" do
      candidates = [member(:a@h, 0), member(:b@h, 9)]
      assert {:ok, %{node: :b@h}} = Router.choose({:node, :b@h}, candidates, :a@h)
      assert :none = Router.choose({:node, :z@h}, candidates, :a@h)
    end

    test "no candidate, no choice" do
      for route <- [:cluster, {:node, :a@h}, {:key, 1}],
          do: assert(:none = Router.choose(route, [], :a@h))
    end

    test "{:key, key} does not depend on load or order, and a leaving node moves only its keys" do
      nodes = [:a@h, :b@h, :c@h, :d@h]
      candidates = Enum.map(nodes, &member(&1, 0))
      place = fn key, members -> elem(Router.choose({:key, key}, members, :a@h), 1).node end

      placement = Map.new(1..400, &{&1, place.(&1, candidates)})

      # Every node gets keys, each about a quarter.
      counts = placement |> Map.values() |> Enum.frequencies()
      assert Map.keys(counts) |> Enum.sort() == nodes
      assert Enum.all?(Map.values(counts), &(&1 in 50..150)), inspect(counts)

      # Load and order change nothing.
      shuffled = candidates |> Enum.reverse() |> Enum.map(&%{&1 | load: :rand.uniform(9)})
      assert Map.new(1..400, &{&1, place.(&1, shuffled)}) == placement

      # Without :c@h, only the keys it had move.
      without_c = Enum.reject(candidates, &(&1.node == :c@h))

      for {key, node} <- placement do
        moved = place.(key, without_c)
        if node == :c@h, do: assert(moved != :c@h), else: assert(moved == node)
      end
    end

    test "valid_route?/1 accepts the four routes only" do
      for route <- [:local, :cluster, {:node, :a@h}, {:key, "s1"}, {:key, {1, 2}}],
          do: assert(Router.valid_route?(route))

      for route <- [:remote, {:node, nil}, {:node, "a@h"}, {:key}, nil, [:cluster]],
          do: refute(Router.valid_route?(route))
    end
  end

  describe "the route call option" do
    test "is not sent to snakepit" do
      for route <- [:local, :cluster, {:node, :b@h}, {:key, 42}] do
        assert Showcase.__request__(:ping, [], snakepit: [route: route, timeout: 5_000]) ==
                 {"ping", %{}, [timeout: 5_000, pool_name: :showcase]}
      end
    end

    test "a route of another shape is refused, naming the four" do
      error =
        assert_raise ArgumentError, fn ->
          Showcase.__request__(:ping, [], snakepit: [route: :remote])
        end

      assert error.message =~
               "call option :route must be one of :local, :cluster, " <>
                 "{:node, node}, {:key, term}"
    end

    test "a pool process (:pool) with a route off this node is refused" do
      Showcase.__request__(:ping, [], snakepit: [pool: Snakepit.Pool])

      error =
        assert_raise ArgumentError, fn ->
          Showcase.__request__(:ping, [], snakepit: [pool: Snakepit.Pool, route: :cluster])
        end

      assert error.message =~ "name the pool with :pool_name instead"
    end

    test "a route off this node without SnakepitBridge.Cluster running is an error saying so" do
      assert {:error, %Snakepit.Error{category: :pool, message: message}} =
               Showcase.ping(snakepit: [route: :cluster])

      assert message =~ "SnakepitBridge.Cluster is not running on node"
      assert message =~ "children = [SnakepitBridge.Cluster, ...]"
    end
  end

  describe "Manifest.signature/1" do
    defp tool(overrides) do
      param = Map.merge(%{"name" => "n", "type" => "integer", "required" => true}, overrides)
      json = %{"format_version" => 1, "tools" => [%{"name" => "t", "parameters" => [param]}]}
      {:ok, %Manifest{tools: [tool]}} = Manifest.from_json(json)
      tool
    end

    test "a parameter sent as binary differs from one sent in JSON" do
      assert Manifest.signature(tool(%{"type" => "bytes", "binary" => true})) !=
               Manifest.signature(tool(%{"type" => "bytes"}))
    end

    test "descriptions do not count" do
      assert Manifest.signature(tool(%{})) == Manifest.signature(tool(%{"description" => "x"}))
    end

    test "a parameter's type, requiredness, default or binary flag do" do
      base = Manifest.signature(tool(%{}))

      for change <- [
            %{"type" => "string"},
            %{"required" => false},
            %{"required" => false, "default" => 3},
            %{"name" => "m"},
            %{"type" => "bytes"}
          ],
          do: assert(Manifest.signature(tool(change)) != base, inspect(change))
    end
  end

  test "pool_config/2 takes cluster: true or false" do
    assert SnakepitBridge.pool_config(:p, cluster: true).cluster == true
    refute Map.has_key?(SnakepitBridge.pool_config(:p, cluster: false), :cluster)
    refute Map.has_key?(SnakepitBridge.pool_config(:p), :cluster)

    assert_raise ArgumentError, ~r/:cluster must be true or false, got :yes/, fn ->
      SnakepitBridge.pool_config(:p, cluster: :yes)
    end
  end
end
