# Sourced by the scripts: puts the npm-provided wasm-opt on PATH for cargo-leptos.
export PATH="$PWD/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
