# Most tests run against stand-ins of snakepit (test/support/snakepit_stand_in.ex), compiled
# only with SNAKEPIT_BRIDGE_STANDALONE=1; with the real snakepit they are skipped.
standalone? = System.get_env("SNAKEPIT_BRIDGE_STANDALONE") in ["1", "true"]
ExUnit.start(exclude: if(standalone?, do: [], else: [:stand_in]))
