defmodule SnakepitBridge.ElixirToolsTest do
  # Declarations (`use SnakepitBridge.ElixirTools`), their compile errors, the checks on
  # arrival, the registration given to snakepit and the manifest. In a real snakepit pool:
  # test/real_snakepit/elixir_tools_test.exs.
  use ExUnit.Case, async: true

  alias SnakepitBridge.ElixirTools
  alias SnakepitBridge.ElixirTools.ManifestJSON
  alias SnakepitBridge.Test.DemoElixirTools
  alias SnakepitBridge.Test.TypedElixirTools, as: Typed

  defp compile_error(code) do
    error =
      assert_raise CompileError, fn ->
        Code.compile_string(code, "test/declarations.exs")
      end

    Exception.message(error)
  end

  defp declaration(body, name \\ "Bad#{System.unique_integer([:positive])}") do
    """
    defmodule SnakepitBridge.ElixirToolsTest.#{name} do
      use SnakepitBridge.ElixirTools
    #{body}
    end
    """
  end

  defp tool(module, name), do: Enum.find(ElixirTools.tools(module), &(&1.name == name))

  defp handler(modules, name) do
    {^name, handler, _metadata} =
      modules |> ElixirTools.registrations() |> List.keyfind(name, 0)

    handler
  end

  describe "a declaration" do
    test "defines the function, with defaults, and its @spec from the declared types" do
      assert Typed.scale(1.5) == 3.0
      assert Typed.scale(1.5, 3) == 4.5
      assert Typed.word_count("a b c") == 3

      {:ok, specs} = Code.Typespec.fetch_specs(Typed)

      spec = fn fun, arity ->
        {{^fun, ^arity}, [spec]} = List.keyfind(specs, {fun, arity}, 0)
        fun |> Code.Typespec.spec_to_quoted(spec) |> Macro.to_string()
      end

      assert spec.(:scale, 2) == "scale(number(), integer()) :: number()"
      assert spec.(:word_count, 2) == "word_count(String.t(), map()) :: integer()"
      assert spec.(:echo, 2) == "echo(term(), list() | nil) :: term()"
    end

    test "declares the tool: name, trimmed @doc, parameters in order, result type" do
      tool = tool(Typed, "scale")
      assert tool.function == :scale
      assert tool.description == "Scale a number.\n\nUsed by the tests."
      assert tool.result_type_name == "number"

      assert [
               %{name: "x", type_name: "float", required: true, default: nil},
               %{name: "factor", type_name: "integer", required: false, default: 2}
             ] = tool.parameters

      assert tool(Typed, "text.word-count").function == :word_count
    end

    test "registers as snakepit's demo registers by hand: description, exposed, parameter specs" do
      {"scale", handler, metadata} = ElixirTools.registrations([Typed]) |> hd()
      assert is_function(handler, 1)

      assert metadata == %{
               description: "Scale a number.\n\nUsed by the tests.",
               exposed_to_python: true,
               parameters: [
                 %{name: "x", type: "float", required: true},
                 %{name: "factor", type: "integer", required: false, default: 2}
               ]
             }
    end

    test "two modules declaring one tool name are refused, saying how to resolve it" do
      defmodule Twin do
        use SnakepitBridge.ElixirTools

        @doc "Another scale"
        deftool scale(x :: float) :: number do
          x
        end
      end

      message =
        assert_raise(ArgumentError, fn -> ElixirTools.registrations([Typed, Twin]) end).message

      assert message =~ ~s(Elixir tool "scale" is declared by both)
      assert message =~ "rename one"
    end

    test "the host type names' aliases are taken and registered as written" do
      [{_, beam}] =
        Code.compile_string("""
        defmodule SnakepitBridge.ElixirToolsTest.Aliases do
          use SnakepitBridge.ElixirTools

          @doc "a"
          deftool aliases(a :: int, b :: str, c :: bool, d :: dict) :: int do
            if c, do: a + byte_size(b) + map_size(d), else: 0
          end
        end
        """)

      assert is_binary(beam)
      [tool] = ElixirTools.tools(SnakepitBridge.ElixirToolsTest.Aliases)

      assert Enum.map(tool.parameters, &{&1.type_name, &1.type}) ==
               [{"int", :integer}, {"str", :string}, {"bool", :boolean}, {"dict", :map}]

      assert_raise ArgumentError, ~r/the parameter `a` must be an integer/, fn ->
        handler([SnakepitBridge.ElixirToolsTest.Aliases], "aliases").(%{
          "a" => "1",
          "b" => "",
          "c" => true,
          "d" => %{}
        })
      end
    end

    test "bad arguments to the functions are ArgumentErrors that say what to pass" do
      assert_raise ArgumentError, ~r/got "MyApp.Tools" \(write the module name/, fn ->
        ElixirTools.registrations(["MyApp.Tools"])
      end

      assert_raise ArgumentError, ~r/expected a list of modules/, fn ->
        ElixirTools.registrations(Typed)
      end

      assert_raise ArgumentError, ~r/the session id must be a string/, fn ->
        ElixirTools.register(:s, [Typed])
      end

      assert_raise ArgumentError, ~r/:session must be a non-empty string/, fn ->
        ElixirTools.manifest([Typed], session: "")
      end

      # one module listed twice is one module
      assert length(ElixirTools.registrations([Typed, Typed])) ==
               length(ElixirTools.registrations([Typed]))
    end

    test "a module without declarations is refused by name" do
      assert_raise ArgumentError, ~r/String declares no Elixir tools/, fn ->
        ElixirTools.tools(String)
      end
    end
  end

  describe "compile errors at the deftool" do
    test "a type with no JSON form names the parameter and the types to use" do
      message =
        compile_error(
          declaration("""
            @doc "x"
            deftool t(p :: pid) :: map do
              %{}
            end
          """)
        )

      assert message =~ "test/declarations.exs:4"
      assert message =~ "parameter `p`: type `pid` has no JSON form"
      assert message =~ "`integer`"
    end

    test "bytes: snakepit passes an Elixir tool only JSON, and what to send instead" do
      message =
        compile_error(
          declaration("""
            @doc "x"
            deftool t(data :: bytes) :: map do
              %{}
            end
          """)
        )

      assert message =~ "base64-encoded as a `string`"
    end

    test "a missing result type, a bad result type" do
      assert compile_error(
               declaration("""
                 @doc "x"
                 deftool t(n :: integer) do
                   n
                 end
               """)
             ) =~ "declare the tool's result type"

      assert compile_error(
               declaration("""
                 @doc "x"
                 deftool t(n :: integer) :: tuple do
                   n
                 end
               """)
             ) =~ "the result type: type `tuple` has no JSON form"
    end

    test "a parameter not written as `name :: type`" do
      assert compile_error(
               declaration("""
                 @doc "x"
                 deftool t(n) :: integer do
                   n
                 end
               """)
             ) =~ "write each parameter as `name :: type`"
    end

    test "a name snakepit refuses: the function's, and one given with name:" do
      assert compile_error(
               declaration("""
                 @doc "x"
                 deftool valid?(n :: integer) :: boolean do
                   n > 0
                 end
               """)
             ) =~ ~s|the tool name "valid?" (the function's name) has characters snakepit refuses|

      long = String.duplicate("a", 65)

      assert compile_error(
               declaration("""
                 @doc "x"
                 deftool t(n :: integer) :: integer, name: "#{long}" do
                   n
                 end
               """)
             ) =~ "is 65 bytes long (at most 64); choose another `name:`"
    end

    test "two tools with one name, pointing at the second and naming the first" do
      message =
        compile_error(
          declaration("""
            @doc "x"
            deftool t(n :: integer) :: integer do
              n
            end

            @doc "y"
            deftool u(n :: integer) :: integer, name: "t" do
              n
            end
          """)
        )

      assert message =~ "test/declarations.exs:9"
      assert message =~ "tool `t` is declared twice (first on line 4)"
    end

    test "a missing @doc" do
      assert compile_error(
               declaration("""
                 deftool t(n :: integer) :: integer do
                   n
                 end
               """)
             ) =~ "tool `t` has no @doc; write one before deftool"
    end

    test "defaults: not a literal, of the wrong kind, with no JSON form, beyond 64 bits" do
      for {default, expected} <- [
            {"String.upcase(\"a\")", "the default must be a literal"},
            {"\"ten\"", ~s(the default "ten" is not an integer)},
            {"[:a]", "the default [:a] has no JSON form"},
            {"#{Integer.pow(2, 64)}", "holds an integer beyond 64 bits"}
          ] do
        message =
          compile_error(
            declaration("""
              @doc "x"
              deftool t(n :: #{if default == "[:a]", do: "list", else: "integer"} \\\\ #{default}) :: integer do
                1
              end
            """)
          )

        assert message =~ expected
      end
    end

    test "a registration over snakepit's 4,096 bytes" do
      assert compile_error(
               declaration("""
                 @doc "#{String.duplicate("long ", 900)}"
                 deftool t(n :: integer) :: integer do
                   n
                 end
               """)
             ) =~ "and snakepit takes at most 4096; shorten its @doc"
    end

    test "every problem of a declaration at once" do
      message =
        compile_error(
          declaration("""
            @doc "x"
            deftool t(a :: pid, b :: tuple, c :: integer, c :: integer) :: port do
              1
            end
          """)
        )

      assert message =~ "4 problems in deftool declarations"
      assert message =~ "parameter `a`: type `pid`"
      assert message =~ "parameter `b`: type `tuple`"
      assert message =~ "the result type: type `port`"
      assert message =~ "parameter `c` is declared twice"
    end
  end

  describe "a call from a worker, checked on arrival" do
    test "the arguments in order, defaults for those left out or null" do
      scale = handler([Typed], "scale")
      assert scale.(%{"x" => 1.5}) == 3.0
      assert scale.(%{"x" => 1.5, "factor" => nil}) == 3.0
      assert scale.(%{"x" => 2, "factor" => 5}) == 10
    end

    test "integers stay exact at any width" do
      echo = handler([Typed], "echo")
      wide = Integer.pow(2, 100) + 1
      assert echo.(%{"value" => wide}) == wide
      assert handler([Typed], "scale").(%{"x" => wide, "factor" => 1}) == wide
    end

    test "a missing required parameter, named with its type" do
      assert_raise ArgumentError,
                   "tool `scale`: the required parameter `x` (float) was not sent",
                   fn -> handler([Typed], "scale").(%{}) end

      assert_raise ArgumentError,
                   "tool `scale`: the required parameter `x` (float) was sent as null",
                   fn -> handler([Typed], "scale").(%{"x" => nil}) end
    end

    test "atom keys (an Elixir caller's, not JSON's) are named as the mistake they are" do
      assert_raise ArgumentError, ~r/parameter names must be strings, as JSON sends them/, fn ->
        handler([Typed], "scale").(%{x: 1.0})
      end
    end

    test "an unknown parameter, with what the tool takes and a suggestion" do
      assert_raise ArgumentError,
                   ~s|tool `scale`: unknown parameter `factr`; it takes `x`, `factor` (did you mean "factor"?)|,
                   fn -> handler([Typed], "scale").(%{"x" => 1.0, "factr" => 2}) end
    end

    test "a value of the wrong kind, naming the parameter" do
      assert_raise ArgumentError,
                   ~s(tool `calculate_fibonacci`: the parameter `n` must be an integer, got "ten"),
                   fn -> handler([DemoElixirTools], "calculate_fibonacci").(%{"n" => "ten"}) end

      assert_raise ArgumentError,
                   "tool `process_list`: the parameter `list` must be a list (array), got %{}",
                   fn -> handler([DemoElixirTools], "process_list").(%{"list" => %{}}) end
    end

    test "a result of the wrong type or with no JSON form is an error, not a changed value" do
      liar = handler([Typed], "liar")
      assert liar.(%{"kind" => "ok"}) == 1

      assert_raise RuntimeError,
                   ~r/tool `liar` returned "not an integer", which is not an integer/,
                   fn ->
                     liar.(%{"kind" => "string"})
                   end

      assert_raise RuntimeError,
                   ~r/tool `liar` returned \{:a, 1\}, which is not an integer/,
                   fn ->
                     liar.(%{"kind" => "tuple"})
                   end

      echo = handler([Typed], "echo")

      assert_raise RuntimeError, ~r/tool `echo` returned a value with no JSON form/, fn ->
        echo.(%{"value" => [1, {:a, 1}]})
      end
    end

    test "a raise, a throw or an exit in the tool becomes an error answer naming the tool" do
      liar = handler([Typed], "liar")

      assert_raise RuntimeError, "tool `liar` failed: ** (throw) :oops", fn ->
        liar.(%{"kind" => "throw"})
      end

      assert_raise RuntimeError, "tool `liar` failed: ** (exit) :gone", fn ->
        liar.(%{"kind" => "exit"})
      end

      assert_raise RuntimeError,
                   "tool `liar` failed: ** (ArgumentError) raised by the tool",
                   fn ->
                     liar.(%{"kind" => "raise"})
                   end
    end
  end

  describe "the manifest" do
    test "of the demo tools declared here is byte for byte the snapshot of the hand-registered demo host" do
      # examples/elixir_tools.json: `snakepit-tools snapshot` of the bundle's host/start.sh,
      # which registers snakepit's demo tools by hand.
      recorded = File.read!(Path.expand("../../../examples/elixir_tools.json", __DIR__))
      assert ElixirTools.manifest([DemoElixirTools], session: "demo-session") == recorded
    end

    test "carries defaults as the Rust CLI prints them, and the tool name given with name:" do
      manifest = Jason.decode!(ElixirTools.manifest([Typed]))
      assert manifest["session"] == "elixir"
      names = Enum.map(manifest["tools"], & &1["name"])
      assert names == Enum.sort(names)

      word_count = Enum.find(manifest["tools"], &(&1["name"] == "text.word-count"))

      assert [%{"name" => "text"}, %{"name" => "options", "default" => %{"sep" => " "}}] =
               word_count["parameters"]
    end

    test "floats are written as serde_json writes them" do
      cases = [
        {1.0, "1.0"},
        {0.1, "0.1"},
        {-2.5, "-2.5"},
        {100.0, "100.0"},
        {0.0, "0.0"},
        {-0.0, "-0.0"},
        {1.0e15, "1000000000000000.0"},
        {1.0e16, "1e+16"},
        {1.5e16, "1.5e+16"},
        {1.0e21, "1e+21"},
        {1.2345678901234568e17, "1.2345678901234568e+17"},
        {1.0e-5, "0.00001"},
        {1.0e-6, "1e-6"},
        {1.5e-7, "1.5e-7"},
        {123.456, "123.456"},
        {5.0e-324, "5e-324"},
        {1.7976931348623157e308, "1.7976931348623157e+308"}
      ]

      for {value, expected} <- cases do
        assert ManifestJSON.float(value) == expected, "#{inspect(value)}"
      end
    end

    test "strings are escaped as serde_json escapes them" do
      assert ManifestJSON.string("a\"b\\c\n\t\r\b\f\u0001\u001f\u007f é ✓ </>") ==
               ~s("a\\"b\\\\c\\n\\t\\r\\b\\f\\u0001\\u001f\u007f é ✓ </>")
    end
  end
end
