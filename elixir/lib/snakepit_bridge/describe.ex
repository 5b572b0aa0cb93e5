defmodule SnakepitBridge.Describe do
  @moduledoc """
  Runs a worker binary with `--snakepit-describe` and reads the manifest it prints.

  The worker is started as `EXE ARGS... --snakepit-describe`; it prints its manifest on
  stdout and exits 0, binding and connecting to nothing. Its stderr goes to ours. A worker that
  does not exit within the timeout is killed.
  """

  alias SnakepitBridge.Manifest

  @default_timeout 30_000

  @doc """
  The manifest text `exe` prints, `{:ok, json}` or `{:error, message}`.

  Options: `:timeout` in milliseconds (#{@default_timeout} by default).
  """
  @spec run(String.t(), [String.t()], keyword()) :: {:ok, String.t()} | {:error, String.t()}
  def run(exe, args, opts \\ []) do
    timeout = Keyword.get(opts, :timeout, @default_timeout)
    command = command(exe, args)

    case find(exe) do
      nil ->
        {:error, "cannot run `#{command}`: #{exe} is not an executable file"}

      path ->
        port =
          Port.open({:spawn_executable, path}, [
            :binary,
            :exit_status,
            :use_stdio,
            args: args ++ ["--snakepit-describe"]
          ])

        deadline = System.monotonic_time(:millisecond) + timeout
        collect(port, [], deadline, command, timeout)
    end
  end

  @doc "The command line `run/3` starts, for messages."
  @spec command(String.t(), [String.t()]) :: String.t()
  def command(exe, args), do: Enum.join([exe | args] ++ ["--snakepit-describe"], " ")

  @doc "Runs the worker and parses what it prints as a manifest."
  @spec manifest(String.t(), [String.t()], keyword()) ::
          {:ok, Manifest.t(), String.t()} | {:error, String.t()}
  def manifest(exe, args, opts \\ []) do
    with {:ok, text} <- run(exe, args, opts) do
      case Manifest.parse(text) do
        {:ok, manifest} ->
          {:ok, manifest, text}

        {:error, reason} ->
          {:error, "`#{command(exe, args)}` did not print a valid manifest: #{reason}"}
      end
    end
  end

  defp find(exe) do
    cond do
      String.contains?(exe, "/") -> if executable?(exe), do: Path.expand(exe)
      path = System.find_executable(exe) -> path
      true -> nil
    end
  end

  defp executable?(path) do
    case File.stat(path) do
      {:ok, %File.Stat{type: :regular, mode: mode}} -> Bitwise.band(mode, 0o111) != 0
      _ -> false
    end
  end

  defp collect(port, acc, deadline, command, timeout) do
    remaining = max(deadline - System.monotonic_time(:millisecond), 0)

    receive do
      {^port, {:data, data}} ->
        collect(port, [acc, data], deadline, command, timeout)

      {^port, {:exit_status, 0}} ->
        {:ok, IO.iodata_to_binary(acc)}

      {^port, {:exit_status, status}} ->
        {:error,
         "`#{command}` exited with status #{status} (does this worker support --snakepit-describe?)"}
    after
      remaining ->
        kill(port)
        {:error, "`#{command}` did not finish within #{timeout} ms; it was stopped"}
    end
  end

  defp kill(port) do
    case Port.info(port, :os_pid) do
      {:os_pid, pid} ->
        System.cmd("kill", ["-KILL", Integer.to_string(pid)], stderr_to_stdout: true)

      nil ->
        :ok
    end

    Port.close(port)
  catch
    _, _ -> :ok
  end
end
