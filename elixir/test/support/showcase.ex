defmodule SnakepitBridge.Test.Showcase do
  @moduledoc "Bindings of the showcase worker's tools, from test/fixtures/showcase_tools.json."
  use SnakepitBridge.Tools, manifest: "test/fixtures/showcase_tools.json", pool: :showcase
end

defmodule SnakepitBridge.Test.DefaultPool do
  @moduledoc false
  use SnakepitBridge.Tools, manifest: "test/fixtures/showcase_tools.json", call_options_key: :call
end

defmodule SnakepitBridge.Test.ShowcaseAdapter do
  @moduledoc false
  use SnakepitBridge.Adapter, executable: "/bin/sh", args: ["--model", :small]
end

defmodule SnakepitBridge.Test.ConfiguredAdapter do
  @moduledoc false
  use SnakepitBridge.Adapter, otp_app: :snakepit_bridge, executable: "/no/such/worker"
end
