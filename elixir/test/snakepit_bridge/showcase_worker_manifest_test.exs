defmodule SnakepitBridge.ShowcaseWorkerManifestTest do
  # The bindings of the real showcase worker (test/support/showcase.ex), generated from the
  # manifest the worker wrote itself: a function for every tool, with the arities and docs an
  # Elixir caller of snakepit's Python showcase expects.
  use ExUnit.Case, async: true

  alias SnakepitBridge.Manifest
  alias SnakepitBridge.Test.RealShowcase

  @manifest "test/fixtures/showcase_worker_tools.json"

  # Each tool's function: its required parameters (the `#[param(rest)]` one is none), then
  # `opts`, then `callback` for a streaming tool.
  @signatures %{
    "adapter_info" => "adapter_info(opts \\\\ [])",
    "basic_add" => "basic_add(a, b, opts \\\\ [])",
    "basic_echo" => "basic_echo(message, opts \\\\ [])",
    "call_elixir_demo" => "call_elixir_demo(tool_name, opts \\\\ [])",
    "concurrent_demo" => "concurrent_demo(opts \\\\ [])",
    "echo" => "echo(opts \\\\ [])",
    "elixir_fibonacci" => "elixir_fibonacci(n, opts \\\\ [])",
    "error_demo" => "error_demo(opts \\\\ [])",
    "execute_tool" => "execute_tool(tool_name, opts \\\\ [])",
    "get_stats" => "get_stats(opts \\\\ [])",
    "ml_analyze_text" => "ml_analyze_text(text, opts \\\\ [])",
    "ping" => "ping(opts \\\\ [])",
    "process_binary" => "process_binary(data, opts \\\\ [])",
    "process_text" => "process_text(text, opts \\\\ [])",
    "stream_data" => "stream_data(opts \\\\ [], callback)",
    "telemetry_demo" => "telemetry_demo(opts \\\\ [])"
  }

  setup do
    {:ok, manifest} = Manifest.read(@manifest)
    %{manifest: manifest}
  end

  test "the manifest lists the showcase's tools", %{manifest: manifest} do
    assert Enum.map(manifest.tools, & &1.name) == Enum.sort(Map.keys(@signatures))
    assert Enum.map(RealShowcase.__tools__(), & &1["name"]) == Enum.map(manifest.tools, & &1.name)
  end

  test "every tool has its function and its ! variant, with the right arities", %{
    manifest: manifest
  } do
    exported = RealShowcase.__info__(:functions)

    for tool <- manifest.tools do
      fun = String.to_atom(tool.name)
      arity = arity(@signatures[tool.name])

      for name <- [fun, :"#{fun}!"] do
        assert {name, arity} in exported, "#{name}/#{arity} missing"
        # One arity less when `opts` is left out; no other.
        assert {name, arity - 1} in exported, "#{name}/#{arity - 1} missing"
        refute {name, arity + 1} in exported, "#{name}/#{arity + 1} is unexpected"
      end
    end
  end

  test "every function's doc is the tool's Rust doc comment, with its signature", %{
    manifest: manifest
  } do
    {:docs_v1, _, :elixir, _, _, _, docs} = Code.fetch_docs(RealShowcase)

    docs =
      Map.new(docs, fn {{_, name, arity}, _, signature, doc, _} ->
        {{name, arity}, {signature, doc}}
      end)

    for tool <- manifest.tools do
      signature = @signatures[tool.name]
      fun = String.to_atom(tool.name)
      {[^signature], %{"en" => doc}} = docs[{fun, arity(signature)}]
      assert String.starts_with?(doc, String.trim(tool.description)), "#{tool.name}: #{doc}"
      assert doc =~ "Calls the worker tool `#{tool.name}`"
    end

    {_, %{"en" => doc}} = docs[{:process_binary, 2}]

    assert doc =~
             "* `data` (bytes, required, positional, sent in `binary_parameters`) - The bytes to process"

    {_, %{"en" => doc}} = docs[{:telemetry_demo, 1}]
    assert doc =~ "* `delay_ms` (integer, option `:delay_ms`, default `100`)"
    {_, %{"en" => doc}} = docs[{:echo, 1}]
    assert doc =~ "Any other keyword option is sent to the tool as a parameter."
  end

  test "calls are sent as the Python showcase's callers send them" do
    assert RealShowcase.__request__(:echo, [], a: 1) ==
             {"echo", %{"a" => 1}, [pool_name: :showcase]}

    assert {"call_elixir_demo", %{"tool_name" => "calculate_fibonacci", "n" => 10}, _} =
             RealShowcase.__request__(:call_elixir_demo, ["calculate_fibonacci"], n: 10)

    assert {"telemetry_demo", %{"operation" => "train", "delay_ms" => 5}, _} =
             RealShowcase.__request__(:telemetry_demo, [], operation: "train", delay_ms: 5)

    assert RealShowcase.__request__(:process_binary, [<<1, 2>>], operation: "reverse") ==
             {"process_binary", %{"operation" => "reverse"},
              [pool_name: :showcase, binary_parameters: %{"data" => <<1, 2>>}]}

    assert {"stream_data", %{"count" => 2}, _} =
             RealShowcase.__request__(:stream_data, [], count: 2)
  end

  defp arity(signature) do
    [_, args] = Regex.run(~r/\((.*)\)/, signature)
    args |> String.split(", ") |> length()
  end
end
