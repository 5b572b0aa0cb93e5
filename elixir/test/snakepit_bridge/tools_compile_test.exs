defmodule SnakepitBridge.ToolsCompileTest do
  # What `use SnakepitBridge.Tools` does at compile time with manifests other than the fixture.
  use ExUnit.Case, async: true

  @moduletag :tmp_dir

  defp manifest!(dir, tools) do
    path = Path.join(dir, "tools.json")
    File.write!(path, Jason.encode!(%{"format_version" => 1, "tools" => tools}))
    path
  end

  defp compile(source) do
    Code.compile_string(source, "nofile_test.ex")
  end

  defp module_name, do: "SnakepitBridge.CompileTest.M#{System.unique_integer([:positive])}"

  test "a missing manifest is a compile error naming the path and the commands that write it", %{
    tmp_dir: dir
  } do
    path = Path.join(dir, "missing.json")

    error =
      assert_raise CompileError, fn ->
        compile("""
        defmodule #{module_name()} do
          use SnakepitBridge.Tools, manifest: #{inspect(path)}
        end
        """)
      end

    message = Exception.message(error)
    assert message =~ "cannot read the manifest #{path}: no such file or directory"
    assert message =~ "WORKER_EXE --snakepit-describe > #{path}"
    assert message =~ "snakepit-tools describe -o #{path} -- WORKER_EXE"
    assert message =~ "mix snakepit_bridge.describe -o #{path} -- WORKER_EXE"
    assert error.file =~ "nofile_test.ex"
    assert error.line == 2
  end

  test "an invalid manifest is a compile error saying what is wrong", %{tmp_dir: dir} do
    path = Path.join(dir, "bad.json")

    File.write!(
      path,
      ~s({"format_version": 1, "tools": [{"name": "t", "parameters": [{"name": 1}]}]})
    )

    assert_raise CompileError,
                 ~r/the manifest .*bad.json is not valid: tool `t`: parameter 0 has no `name`.*write it from the worker binary with/s,
                 fn ->
                   compile(
                     "defmodule #{module_name()} do use SnakepitBridge.Tools, manifest: #{inspect(path)} end"
                   )
                 end
  end

  test "use without a manifest, or with an unknown option, is a compile error", %{tmp_dir: dir} do
    assert_raise CompileError, ~r/needs `manifest: "path\/to\/tools.json"`/, fn ->
      compile("defmodule #{module_name()} do use SnakepitBridge.Tools, pool: :p end")
    end

    path = manifest!(dir, [])

    assert_raise CompileError, ~r/unknown options \[:pol\]/, fn ->
      compile(
        "defmodule #{module_name()} do use SnakepitBridge.Tools, manifest: #{inspect(path)}, pol: :p end"
      )
    end
  end

  test "tool names that are not Elixir names are turned into function names; the worker gets the real one",
       %{tmp_dir: dir} do
    path =
      manifest!(dir, [
        %{
          "name" => "text.split-words",
          "parameters" => [
            %{"name" => "max-len", "type" => "integer"},
            %{"name" => "Text", "type" => "string", "required" => true}
          ]
        },
        %{"name" => "WordCount"},
        %{"name" => "2fa"},
        %{"name" => "end"}
      ])

    [{module, _}] =
      compile(
        "defmodule #{module_name()} do use SnakepitBridge.Tools, manifest: #{inspect(path)} end"
      )

    assert function_exported?(module, :text_split_words, 2)
    assert function_exported?(module, :word_count, 1)
    assert function_exported?(module, :tool_2fa, 1)
    assert function_exported?(module, :end_tool, 1)

    assert module.__request__(:text_split_words, ["abc"], "max-len": 3) ==
             {"text.split-words", %{"Text" => "abc", "max-len" => 3}, []}

    assert module.__request__(:word_count, [], []) == {"WordCount", %{}, []}
  end

  test "two tools with the same function name are a compile error naming both", %{tmp_dir: dir} do
    path = manifest!(dir, [%{"name" => "a.b"}, %{"name" => "a-b"}])

    assert_raise CompileError, ~r/tools `a-b` and `a.b` would both be `a_b`/, fn ->
      compile(
        "defmodule #{module_name()} do use SnakepitBridge.Tools, manifest: #{inspect(path)} end"
      )
    end
  end

  test "the collision message says how to resolve it, and names: resolves it", %{tmp_dir: dir} do
    path = manifest!(dir, [%{"name" => "a.b"}, %{"name" => "a-b"}])

    assert_raise CompileError,
                 ~r/give one another function name: .*names: %\{"a-b" => :a_b_2\}/,
                 fn ->
                   compile(
                     "defmodule #{module_name()} do use SnakepitBridge.Tools, manifest: #{inspect(path)} end"
                   )
                 end

    name = module_name()

    [{module, _}] =
      compile("""
      defmodule #{name} do
        use SnakepitBridge.Tools, manifest: #{inspect(path)}, names: %{"a.b" => :a_dot_b}
      end
      """)

    assert module.__request__(:a_dot_b, [], []) == {"a.b", %{}, []}
    assert module.__request__(:a_b, [], []) == {"a-b", %{}, []}
    assert function_exported?(module, :a_dot_b!, 1)
  end

  test "names: for a tool the manifest lacks, or a reserved name, is a compile error", %{
    tmp_dir: dir
  } do
    path = manifest!(dir, [%{"name" => "t"}])

    assert_raise CompileError, ~r/renames tool "nope", which the manifest .* does not have/, fn ->
      compile(
        "defmodule #{module_name()} do use SnakepitBridge.Tools, manifest: #{inspect(path)}, names: [{\"nope\", :x}] end"
      )
    end

    assert_raise CompileError, ~r/gives tool "t" the name `__tools__`, which is reserved/, fn ->
      compile(
        "defmodule #{module_name()} do use SnakepitBridge.Tools, manifest: #{inspect(path)}, names: %{\"t\" => :__tools__} end"
      )
    end

    assert_raise CompileError, ~r/`names:` maps tool names to function names/, fn ->
      compile(
        "defmodule #{module_name()} do use SnakepitBridge.Tools, manifest: #{inspect(path)}, names: %{t: \"x\"} end"
      )
    end

    assert_raise CompileError, ~r/lowercase identifiers, without \? or !/, fn ->
      compile(
        "defmodule #{module_name()} do use SnakepitBridge.Tools, manifest: #{inspect(path)}, names: %{\"t\" => :run!} end"
      )
    end
  end

  test "options are literals: code in them is a compile error, not run", %{tmp_dir: dir} do
    path = manifest!(dir, [%{"name" => "t"}])

    error =
      assert_raise CompileError, fn ->
        compile("""
        defmodule #{module_name()} do
          use SnakepitBridge.Tools, manifest: Path.join(#{inspect(dir)}, "tools.json")
        end
        """)
      end

    assert Exception.message(error) =~ "takes literal options"
    assert Exception.message(error) =~ "Path.join("

    # Aliases are expanded.
    [{module, _}] =
      compile("""
      defmodule #{module_name()} do
        alias Some.Pool
        use SnakepitBridge.Tools, manifest: #{inspect(path)}, pool: Pool
      end
      """)

    assert module.__request__(:t, [], []) == {"t", %{}, [pool_name: Some.Pool]}
  end

  test "an optional parameter named like the call options key is a compile error, call_options_key solves it",
       %{tmp_dir: dir} do
    path =
      manifest!(dir, [
        %{"name" => "t", "parameters" => [%{"name" => "snakepit", "type" => "string"}]}
      ])

    assert_raise CompileError,
                 ~r/tool `t` has an optional parameter named `snakepit`, the key of call options; pick another key/,
                 fn ->
                   compile(
                     "defmodule #{module_name()} do use SnakepitBridge.Tools, manifest: #{inspect(path)} end"
                   )
                 end

    [{module, _}] =
      compile(
        "defmodule #{module_name()} do use SnakepitBridge.Tools, manifest: #{inspect(path)}, call_options_key: :rpc end"
      )

    assert module.__request__(:t, [], snakepit: "x", rpc: [timeout: 7]) ==
             {"t", %{"snakepit" => "x"}, [timeout: 7]}
  end

  test "calling a tool that does not exist, or with a wrong arity, warns at compile time", %{
    tmp_dir: dir
  } do
    path = manifest!(dir, [%{"name" => "ping"}])
    name = module_name()
    compile("defmodule #{name} do use SnakepitBridge.Tools, manifest: #{inspect(path)} end")

    warnings =
      ExUnit.CaptureIO.capture_io(:stderr, fn ->
        Code.compile_string("""
        defmodule #{name}.Caller do
          def a, do: #{name}.pong()
          def b, do: #{name}.ping(1, 2)
        end
        """)
      end)

    assert warnings =~ "#{name}.pong/0 is undefined or private"
    assert warnings =~ "#{name}.ping/2 is undefined or private"
  end
end
