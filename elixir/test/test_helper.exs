# Unit tests by default. The suite in a real snakepit application (test/real_snakepit/, pools
# of the Rust showcase worker) is tagged :real_snakepit: `mix test --only real_snakepit`.
ExUnit.start(exclude: [:real_snakepit])
