defmodule SnakepitBridge.MixHelpers do
  @moduledoc false
  # The command line of the mix tasks: options, then `-- EXE ARGS...` or the configured worker.

  def parse!(argv, task) do
    {before, worker} =
      case Enum.split_while(argv, &(&1 != "--")) do
        {before, ["--" | worker]} -> {before, worker}
        {before, []} -> {before, []}
      end

    {opts, positional, invalid} =
      OptionParser.parse(before,
        strict: [output: :string, timeout: :integer],
        aliases: [o: :output]
      )

    if invalid != [] do
      Mix.raise("mix #{task}: invalid options #{inspect(invalid)}")
    end

    opts = Keyword.put(opts, :positional, positional)

    case worker do
      [exe | args] ->
        {opts, exe, args}

      [] ->
        Mix.Task.run("loadconfig")

        case Application.get_env(:snakepit_bridge, :executable) do
          exe when is_binary(exe) and exe != "" ->
            args = Enum.map(Application.get_env(:snakepit_bridge, :args, []), &to_string/1)
            {opts, exe, args}

          _ ->
            Mix.raise(
              "mix #{task}: give the worker after `--` (mix #{task} ... -- WORKER_EXE ARGS...) " <>
                "or set config :snakepit_bridge, executable: \"/abs/path/to/worker\""
            )
        end
    end
  end
end
