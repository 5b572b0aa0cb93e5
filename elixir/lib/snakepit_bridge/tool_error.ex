defmodule SnakepitBridge.ToolError do
  @moduledoc """
  Raised by the `!` functions of `SnakepitBridge.Tools` when a call fails: `reason` is the
  error the non-`!` function returns (a `%Snakepit.Error{}`), whose `details.reason` holds the
  worker's error (for example a `%Snakepit.Error.ValueError{}`) when the tool itself failed.
  """

  defexception [:tool, :function, :reason]

  @type t :: %__MODULE__{tool: String.t(), function: String.t(), reason: term()}

  @impl true
  def message(%__MODULE__{tool: tool, function: function, reason: reason}) do
    "#{function} (tool `#{tool}`) failed: #{describe(reason)}"
  end

  defp describe(%{__struct__: Snakepit.Error, category: category, message: message} = error) do
    case error |> Map.get(:details, %{}) |> detail_reason() do
      nil -> "[#{category}] #{message}"
      detail -> "[#{category}] #{message}: #{detail}"
    end
  end

  defp describe(reason), do: detail_reason(%{reason: reason}) || inspect(reason)

  defp detail_reason(%{reason: reason}) when is_exception(reason) do
    type = reason.__struct__ |> Module.split() |> List.last()
    "#{type}: #{Exception.message(reason)}"
  end

  defp detail_reason(%{reason: reason}) when is_binary(reason), do: reason
  defp detail_reason(%{reason: nil}), do: nil
  defp detail_reason(%{reason: reason}), do: inspect(reason)
  defp detail_reason(_details), do: nil
end
