defmodule SnakepitBridge.RecompileTest do
  # A module using SnakepitBridge.Tools in a real mix project is recompiled when its manifest
  # changes (@external_resource), like any module whose source changed.
  use ExUnit.Case, async: true
  @moduletag :tmp_dir

  @tools_v1 ~s({"format_version": 1, "tools": [{"name": "ping"}]})
  @tools_v2 ~s({"format_version": 1, "tools": [{"name": "ping"}, {"name": "pong", "parameters": [{"name": "n", "type": "integer", "required": true}]}]})

  test "mix compile recompiles the module when the manifest changes, and only then", %{
    tmp_dir: dir
  } do
    File.mkdir_p!(Path.join(dir, "lib"))
    File.mkdir_p!(Path.join(dir, "priv"))

    File.write!(Path.join(dir, "mix.exs"), """
    defmodule Probe.MixProject do
      use Mix.Project
      # This package comes through ERL_LIBS, which mix prunes from the code path by default.
      def project, do: [app: :probe, version: "0.1.0", deps: [], prune_code_paths: false]
    end
    """)

    File.write!(Path.join(dir, "lib/probe.ex"), """
    defmodule Probe do
      use SnakepitBridge.Tools, manifest: "priv/tools.json"
    end
    """)

    manifest = Path.join(dir, "priv/tools.json")
    File.write!(manifest, @tools_v1)

    assert mix(dir, ["compile"]) =~ "Compiling 1 file"
    assert mix(dir, ["compile"]) == ""
    assert functions(dir) =~ "ping: 1"
    refute functions(dir) =~ "pong"

    File.write!(manifest, @tools_v2)
    # The stale check compares modification times in seconds: date the change after the build.
    File.touch!(manifest, System.os_time(:second) + 2)

    assert mix(dir, ["compile"]) =~ "Compiling 1 file"
    assert functions(dir) =~ "pong: 2"
  end

  defp functions(dir) do
    mix(dir, [
      "run",
      "--no-compile",
      "-e",
      "IO.inspect(Probe.__info__(:functions), limit: :infinity)"
    ])
  end

  defp mix(dir, args) do
    # The project finds this package's compiled modules through ERL_LIBS.
    libs = Path.join(Mix.Project.build_path(), "lib")
    env = [{"MIX_ENV", "dev"}, {"ERL_LIBS", libs}]
    {output, status} = System.cmd("mix", args, cd: dir, env: env, stderr_to_stdout: true)
    assert status == 0, "mix #{Enum.join(args, " ")} failed:\n#{output}"
    output
  end
end
