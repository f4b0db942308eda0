# Shared by the scripts in this directory (sourced, not run).

# Makes `cargo` available (rustup installs it in ~/.cargo/bin, which a fresh root shell may not have on PATH).
ensure_cargo() {
    if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
        # shellcheck disable=SC1091
        . "$HOME/.cargo/env"
    fi
    command -v cargo >/dev/null 2>&1 || {
        echo "cargo not found: install Rust first (https://rustup.rs)" >&2
        exit 1
    }
}

# The cargo target directory of the workspace at $1.
target_dir() {
    echo "${CARGO_TARGET_DIR:-$1/target}"
}
