defmodule Mix.Tasks.SnakepitBridgeElixirManifestTest do
  # `mix snakepit_bridge.elixir_manifest` (write and --check) and the
  # `:snakepit_bridge_manifest` compiler, on the test support modules.
  use ExUnit.Case, async: false
  @moduletag :tmp_dir

  alias Mix.Tasks.Compile.SnakepitBridgeManifest
  alias Mix.Tasks.SnakepitBridge.ElixirManifest
  alias SnakepitBridge.ElixirTools
  alias SnakepitBridge.Test.{ChangedDemoElixirTools, DemoElixirTools}

  @demo "SnakepitBridge.Test.DemoElixirTools"

  setup do
    Mix.shell(Mix.Shell.Process)

    on_exit(fn ->
      Mix.shell(Mix.Shell.IO)
      Application.delete_env(:snakepit_bridge, :elixir_manifest)
    end)
  end

  test "writes the manifest of the named modules, then says it is unchanged", %{tmp_dir: dir} do
    path = Path.join(dir, "nested/elixir_tools.json")
    ElixirManifest.run(["-o", path, "--session", "demo-session", @demo])
    assert File.read!(path) == ElixirTools.manifest([DemoElixirTools], session: "demo-session")
    assert_received {:mix_shell, :info, [message]}
    assert message == "#{path}: written (3 tools)"

    ElixirManifest.run(["-o", path, "--session", "demo-session", @demo])
    assert_received {:mix_shell, :info, [message]}
    assert message == "#{path}: unchanged (3 tools)"
  end

  test "--check passes on the file it wrote and fails, listing the differences, when the code changed",
       %{tmp_dir: dir} do
    path = Path.join(dir, "elixir_tools.json")
    File.write!(path, ElixirTools.manifest([ChangedDemoElixirTools]))

    error =
      assert_raise Mix.Error, fn -> ElixirManifest.run(["--check", "-o", path, @demo]) end

    assert error.message =~ "#{path} does not match the Elixir tools declared in #{@demo}"
    assert error.message =~ "calculate_fibonacci"

    assert error.message =~
             "Update it with: mix snakepit_bridge.elixir_manifest -o #{path} #{@demo}"

    ElixirManifest.run(["-o", path, @demo])
    ElixirManifest.run(["--check", "-o", path, @demo])
    expected = "#{path} is up to date"
    assert_received {:mix_shell, :info, [^expected]}
  end

  test "the examples' manifest is the one of the demo tools declared in Elixir" do
    # examples/elixir_tools.json, which the Rust examples' DemoTools trait is checked against
    ElixirManifest.run([
      "--check",
      "-o",
      "../examples/elixir_tools.json",
      "--session",
      "demo-session",
      @demo
    ])
  end

  test "bad command lines are refused with what to write" do
    assert_raise Mix.Error, ~r/give the path and the modules/, fn -> ElixirManifest.run([]) end

    assert_raise Mix.Error, ~r/name the modules that declare the tools/, fn ->
      ElixirManifest.run(["-o", "x.json"])
    end

    assert_raise Mix.Error, ~r/NoSuch declares no Elixir tools/, fn ->
      ElixirManifest.run(["-o", "x.json", "NoSuch"])
    end
  end

  test "the compiler rewrites the configured manifest when the declarations change", %{
    tmp_dir: dir
  } do
    assert SnakepitBridgeManifest.run([]) == {:noop, []}

    path = Path.join(dir, "elixir_tools.json")

    Application.put_env(:snakepit_bridge, :elixir_manifest,
      path: path,
      modules: [DemoElixirTools]
    )

    assert SnakepitBridgeManifest.run([]) == {:ok, []}
    assert File.read!(path) == ElixirTools.manifest([DemoElixirTools])
    assert SnakepitBridgeManifest.run([]) == {:noop, []}

    Application.put_env(:snakepit_bridge, :elixir_manifest,
      path: path,
      modules: [ChangedDemoElixirTools]
    )

    assert SnakepitBridgeManifest.run([]) == {:ok, []}
    assert File.read!(path) == ElixirTools.manifest([ChangedDemoElixirTools])

    Application.put_env(:snakepit_bridge, :elixir_manifest, modules: [DemoElixirTools])

    assert {:error, [%Mix.Task.Compiler.Diagnostic{message: message}]} =
             SnakepitBridgeManifest.run([])

    assert message =~ "give the manifest's path"
  end
end
