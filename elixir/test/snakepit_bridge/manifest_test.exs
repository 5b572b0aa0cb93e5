defmodule SnakepitBridge.ManifestTest do
  use ExUnit.Case, async: true

  alias SnakepitBridge.Manifest
  alias SnakepitBridge.Manifest.{Parameter, Tool}

  doctest SnakepitBridge.Manifest
  doctest SnakepitBridge.Types

  @fixture Path.expand("../fixtures/showcase_tools.json", __DIR__)

  test "reads the showcase fixture: tools sorted, parameters in order, defaults filled in" do
    {:ok, manifest} = Manifest.read(@fixture)
    assert manifest.worker == "showcase_worker"

    assert Enum.map(manifest.tools, & &1.name) ==
             ~w(basic_add call_elixir_demo echo error_demo ping process_binary stream_data wait_for_event)

    binary = Enum.find(manifest.tools, &(&1.name == "process_binary"))

    assert [
             %Parameter{
               name: "data",
               type: :binary,
               type_name: "bytes",
               required: true,
               binary: true
             },
             %Parameter{name: "operation", type: :string, required: false, default: "checksum"}
           ] = binary.parameters

    stream = Enum.find(manifest.tools, &(&1.name == "stream_data"))
    assert %Tool{supports_streaming: true, extra_parameters: false, result_schema: nil} = stream
    assert Enum.map(stream.parameters, & &1.default) == [5, 1.0]

    echo = Enum.find(manifest.tools, &(&1.name == "echo"))

    assert %Tool{
             extra_parameters: true,
             parameters: [%Parameter{name: "kwargs", type: :any, required: true, rest: true}]
           } = echo

    demo = Enum.find(manifest.tools, &(&1.name == "call_elixir_demo"))

    assert Enum.map(demo.parameters, &{&1.name, &1.rest}) == [
             {"tool_name", false},
             {"kwargs", true}
           ]
  end

  test "the host's other type names read as the same types; unknown ones as any" do
    params =
      ~w(int number str bool array object dict tensor)
      |> Enum.map(&%{"name" => &1, "type" => &1})

    {:ok, %{tools: [tool]}} =
      Manifest.from_json(%{
        "format_version" => 1,
        "tools" => [%{"name" => "t", "parameters" => params}]
      })

    assert Enum.map(tool.parameters, & &1.type) ==
             [:integer, :float, :string, :boolean, :list, :map, :map, :any]

    assert [
             %Parameter{
               type_name: "any",
               type: :any,
               required: false,
               description: "",
               default: :none
             }
           ] =
             parse!(
               ~s({"format_version": 1, "tools": [{"name": "t", "parameters": [{"name": "x"}]}]})
             ).tools
             |> hd()
             |> Map.fetch!(:parameters)
  end

  test "a default of null is a default, not its absence" do
    json =
      ~s({"format_version": 1, "tools": [{"name": "t", "parameters": [{"name": "x", "default": null}]}]})

    assert [%Parameter{default: nil}] = hd(parse!(json).tools).parameters
  end

  test "every problem is reported at once" do
    json = ~s({"format_version": 1, "tools": [
      {"name": "a", "description": 3, "parameters": [{"name": "x", "required": "yes", "rest": 1}, {"type": "int"}]},
      {"description": "no name"},
      {"name": "b", "parameters": [{"name": "y"}, {"name": "y"}]},
      {"name": "b"}
    ]})

    assert Manifest.parse(json) ==
             {:error,
              "tool `a`: `description` must be a UTF-8 string, got 3; " <>
                "tool `a`: parameter `x`: `required` must be a boolean, got \"yes\"; " <>
                "tool `a`: parameter `x`: `rest` must be a boolean, got 1; " <>
                "tool `a`: parameter 1 has no `name` (a non-empty string); " <>
                "tool 1 has no `name` (a non-empty string); " <>
                "tool `b`: parameter `y` is listed more than once"}

    assert Manifest.parse(~s({"format_version": 1, "tools": [{"name": "b"}, {"name": "b"}]})) ==
             {:error, "tool `b` is listed more than once"}
  end

  test "the format version and the overall shape are checked" do
    assert Manifest.parse(~s({"format_version": 2, "tools": []})) ==
             {:error, "format_version 2 is not supported (this version reads 1)"}

    assert Manifest.parse(~s({"tools": []})) == {:error, "`format_version` must be 1"}

    assert Manifest.parse("[]") ==
             {:error, "a manifest is a JSON object with `format_version` and `tools`"}

    assert Manifest.parse(~s({"format_version": 1, "tools": {}})) ==
             {:error, "`tools` must be a list of tools, got {}"}

    assert Manifest.parse("{") == {:error, "not JSON: unexpected end of input at position 1"}
  end

  test "read/1 names the path" do
    assert {:error, "cannot read the manifest /no/such.json: no such file or directory"} =
             Manifest.read("/no/such.json")

    path =
      Path.join(
        System.tmp_dir!(),
        "snakepit_bridge_bad_#{System.unique_integer([:positive])}.json"
      )

    File.write!(path, "{not json")
    on_exit(fn -> File.rm(path) end)

    assert Manifest.read(path) ==
             {:error,
              "the manifest #{path} is not valid: not JSON: unexpected byte at position 1: 0x6E (\"n\")"}
  end

  describe "diff/2" do
    setup do
      {:ok, manifest} = Manifest.read(@fixture)
      %{manifest: manifest}
    end

    test "is empty for the same manifest, whatever the worker field", %{manifest: manifest} do
      assert Manifest.diff(manifest, %{manifest | worker: "other"}) == []
    end

    test "reports added, removed and changed tools and parameters", %{manifest: manifest} do
      current =
        update_tools(manifest, fn tools ->
          tools
          |> Enum.reject(&(&1.name == "echo"))
          |> Enum.map(fn
            %Tool{name: "ping"} = t ->
              [message] = t.parameters

              %{
                t
                | description: "Ping.",
                  parameters: [%{message | default: "hi", type_name: "str"}]
              }

            %Tool{name: "basic_add"} = t ->
              [a, b] = t.parameters
              c = %Parameter{name: "c", type_name: "float", type: :float, required: false}
              %{t | parameters: [b, a, c], supports_streaming: true}

            t ->
              t
          end)
          |> Kernel.++([%Tool{name: "new_tool", raw: %{}}])
        end)

      assert Manifest.diff(manifest, current) == [
               "~ tool `basic_add`: supports_streaming: false -> true",
               "~ tool `basic_add`: parameter `c` added",
               ~s(~ tool `basic_add`: parameter order ["a", "b"] -> ["b", "a", "c"]),
               "- tool `echo`: in the manifest, no longer described by the worker",
               "+ tool `new_tool`: described by the worker, not in the manifest",
               ~s(~ tool `ping`: description: "Echo back a message with a timestamp." -> "Ping."),
               ~s(~ tool `ping`: parameter `message` type: "string" -> "str"),
               ~s(~ tool `ping`: parameter `message` default: "pong" -> "hi")
             ]
    end

    test "a parameter that becomes or stops being the rest one is a difference",
         %{manifest: manifest} do
      current =
        update_tools(manifest, fn tools ->
          Enum.map(tools, fn
            %Tool{name: "echo", parameters: [p]} = t -> %{t | parameters: [%{p | rest: false}]}
            t -> t
          end)
        end)

      assert Manifest.diff(manifest, current) ==
               ["~ tool `echo`: parameter `kwargs` rest: true -> false"]
    end

    test "a default that appears or disappears is a difference", %{manifest: manifest} do
      current =
        update_tools(manifest, fn tools ->
          Enum.map(tools, fn
            %Tool{name: "error_demo", parameters: [p]} = t ->
              %{t | parameters: [%{p | default: :none}]}

            t ->
              t
          end)
        end)

      assert Manifest.diff(manifest, current) ==
               [~s(~ tool `error_demo`: parameter `error_type` default: "generic" -> \(none\))]
    end
  end

  defp parse!(json) do
    {:ok, manifest} = Manifest.parse(json)
    manifest
  end

  defp update_tools(manifest, fun), do: %{manifest | tools: fun.(manifest.tools)}
end
