defmodule Mix.Tasks.SnakepitBridgeTasksTest do
  # `mix snakepit_bridge.check` and `mix snakepit_bridge.describe` against fake worker
  # executables: shell scripts that print a manifest when run with --snakepit-describe.
  use ExUnit.Case, async: false
  @moduletag :tmp_dir

  alias Mix.Tasks.SnakepitBridge.{Check, Describe}

  @fixture Path.expand("../fixtures/showcase_tools.json", __DIR__)

  setup %{tmp_dir: dir} do
    Mix.shell(Mix.Shell.Process)

    on_exit(fn ->
      Mix.shell(Mix.Shell.IO)
      Application.delete_env(:snakepit_bridge, :executable)
      Application.delete_env(:snakepit_bridge, :args)
    end)

    %{worker: fake_worker(dir, "worker", File.read!(@fixture))}
  end

  # Prints `manifest` when its last argument is --snakepit-describe, and records its arguments.
  defp fake_worker(dir, name, manifest, extra \\ "") do
    File.write!(Path.join(dir, "#{name}.json"), manifest)
    path = Path.join(dir, name)

    File.write!(path, """
    #!/bin/sh
    printf '%s\\n' "$@" > "#{dir}/#{name}.args"
    #{extra}
    for last; do :; done
    [ "$last" = "--snakepit-describe" ] || { echo "not asked to describe" >&2; exit 2; }
    cat "#{dir}/#{name}.json"
    """)

    File.chmod!(path, 0o755)
    path
  end

  defp committed(dir, text) do
    path = Path.join(dir, "committed.json")
    File.write!(path, text)
    path
  end

  describe "check" do
    test "passes when the committed manifest matches the worker", %{tmp_dir: dir, worker: worker} do
      path = committed(dir, File.read!(@fixture))
      Check.run([path, "--", worker, "--model", "small"])
      assert_received {:mix_shell, :info, [message]}
      assert message == "#{path} is up to date (8 tools)"
      assert File.read!(Path.join(dir, "worker.args")) == "--model\nsmall\n--snakepit-describe\n"
    end

    test "fails with one line per difference and the command that updates it", %{
      tmp_dir: dir,
      worker: worker
    } do
      {:ok, json} = Jason.decode(File.read!(@fixture))

      tools =
        json["tools"]
        |> Enum.reject(&(&1["name"] == "echo"))
        |> Enum.map(fn
          %{"name" => "ping"} = t -> put_in(t, ["parameters", Access.at(0), "default"], "ping")
          t -> t
        end)

      path = committed(dir, Jason.encode!(%{json | "tools" => tools}))

      error = assert_raise Mix.Error, fn -> Check.run([path, "--", worker]) end

      assert error.message == """
             #{path} does not match what `#{worker} --snakepit-describe` describes now:
             + tool `echo`: described by the worker, not in the manifest
             ~ tool `ping`: parameter `message` default: "ping" -> "pong"
             Update it with: mix snakepit_bridge.describe -o #{path} -- #{worker}
             """
    end

    test "uses the configured worker when none is given after --", %{tmp_dir: dir, worker: worker} do
      Application.put_env(:snakepit_bridge, :executable, worker)
      Application.put_env(:snakepit_bridge, :args, [:fast])
      path = committed(dir, File.read!(@fixture))
      Check.run([path])
      assert_received {:mix_shell, :info, ["" <> _]}
      assert File.read!(Path.join(dir, "worker.args")) == "fast\n--snakepit-describe\n"
    end

    test "a missing committed manifest says how to write it", %{tmp_dir: dir, worker: worker} do
      path = Path.join(dir, "none.json")

      assert_raise Mix.Error,
                   ~r/cannot read the manifest .*none.json: no such file or directory; write it with `WORKER_EXE --snakepit-describe > /,
                   fn ->
                     Check.run([path, "--", worker])
                   end
    end

    test "a worker that fails, prints no manifest, hangs or does not exist is a clear error", %{
      tmp_dir: dir
    } do
      path = committed(dir, File.read!(@fixture))

      failing = fake_worker(dir, "failing", "", "exit 3")

      assert_raise Mix.Error,
                   "`#{failing} --snakepit-describe` exited with status 3 (does this worker support --snakepit-describe?)",
                   fn ->
                     Check.run([path, "--", failing])
                   end

      garbage = fake_worker(dir, "garbage", "Listening on port 50051")

      assert_raise Mix.Error,
                   "`#{garbage} --snakepit-describe` did not print a valid manifest: not JSON: unexpected byte at position 0: 0x4C (\"L\")",
                   fn ->
                     Check.run([path, "--", garbage])
                   end

      hanging = fake_worker(dir, "hanging", "", "exec sleep 600")

      assert_raise Mix.Error,
                   "`#{hanging} --snakepit-describe` did not finish within 300 ms; it was stopped",
                   fn ->
                     Check.run([path, "--timeout", "300", "--", hanging])
                   end

      assert_raise Mix.Error,
                   ~r/cannot run `\/no\/such\/worker --snakepit-describe`: \/no\/such\/worker is not an executable file/,
                   fn ->
                     Check.run([path, "--", "/no/such/worker"])
                   end
    end

    test "usage errors", %{tmp_dir: dir, worker: worker} do
      assert_raise Mix.Error, ~r/usage: mix snakepit_bridge.check MANIFEST_PATH/, fn ->
        Check.run(["--", worker])
      end

      assert_raise Mix.Error, ~r/give the worker after `--`/, fn ->
        Check.run([committed(dir, "{}")])
      end
    end
  end

  describe "describe" do
    test "writes what the worker prints, byte for byte", %{tmp_dir: dir, worker: worker} do
      output = Path.join(dir, "priv/tools.json")
      Describe.run(["-o", output, "--", worker])
      assert File.read!(output) == File.read!(@fixture)
      assert_received {:mix_shell, :info, [message]}
      assert message == "Wrote #{output}: 8 tools"
    end

    test "refuses to write what is not a manifest", %{tmp_dir: dir} do
      garbage = fake_worker(dir, "garbage", ~s({"format_version": 9, "tools": []}))
      output = Path.join(dir, "tools.json")

      assert_raise Mix.Error,
                   ~r/did not print a valid manifest: format_version 9 is not supported/,
                   fn ->
                     Describe.run(["-o", output, "--", garbage])
                   end

      refute File.exists?(output)

      assert_raise Mix.Error, ~r/give the manifest's path with -o PATH/, fn ->
        Describe.run(["--", garbage])
      end
    end
  end
end
