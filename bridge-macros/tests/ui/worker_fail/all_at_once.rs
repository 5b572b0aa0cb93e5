use snakepit_bridge::worker::ToolError;
use snakepit_bridge::worker_tools;

struct Tools;

#[worker_tools]
impl Tools {
    pub fn new() -> Self {
        Tools
    }
    pub fn borrowed(&self, name: &str) -> Result<u32, ToolError> {
        Ok(name.len() as u32)
    }
    pub fn generic<T>(&self, _value: T) -> Result<u32, ToolError> {
        Ok(1)
    }
    #[tool(name = "bad name")]
    pub fn named(&self) -> Result<u32, ToolError> {
        Ok(1)
    }
    pub fn no_result(&self) {}
    pub fn pattern(&self, (a, b): (u32, u32)) -> Result<u32, ToolError> {
        Ok(a + b)
    }
    pub fn twice(&self, a: u32, #[param(rename = "a")] b: u32) -> Result<u32, ToolError> {
        Ok(a + b)
    }
    pub fn exclusive(&self, #[param(binary, default = "x")] data: Vec<u8>) -> Result<usize, ToolError> {
        Ok(data.len())
    }
    pub fn mutable(&mut self) -> Result<u32, ToolError> {
        Ok(1)
    }
}

fn main() {
    // The valid tools are still served: no follow-on errors at the uses.
    use snakepit_bridge::worker::ToolSet;
    let _ = Tools::tool_definitions();
}
