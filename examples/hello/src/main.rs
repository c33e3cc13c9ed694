//! A small command that greets whoever its environment names, and reports
//! what else it can see of its host.
fn main() {
    let greeting = std::env::var("GREETING").unwrap_or_else(|_| "Hello".into());
    let name = std::env::var("NAME").unwrap_or_else(|_| "world".into());
    println!("{greeting}, {name}!");
    let vars: Vec<String> = std::env::vars().map(|(k, _)| k).collect();
    println!("environment variables visible: {}", vars.join(", "));
    let args: Vec<String> = std::env::args().collect();
    println!("arguments visible: {args:?}");
}
