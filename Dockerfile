# k2-sandbox as a container: a static binary on an empty base image.
#   docker build -t k2-sandbox .
#   docker run --rm -p 127.0.0.1:8080:8080 k2-sandbox
# Configured entirely by K2_SANDBOX_* environment variables (see `k2-sandbox --help`).

FROM rust:1-slim AS builder
WORKDIR /build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# A static binary for the platform the image is built on (amd64 or arm64, also under
# `docker buildx build --platform linux/amd64,linux/arm64`): the host triple is named as the
# target, so that crt-static applies to the binary and not to build scripts and proc macros.
ENV CARGO_TERM_COLOR=never \
    RUSTFLAGS="-C target-feature=+crt-static"
# Dependencies first, in their own layer: a source change does not rebuild them. The manifest
# names a bench target, so a placeholder stands in for it (the image never builds benches).
COPY Cargo.toml Cargo.lock askama.toml ./
RUN mkdir src benches \
 && echo 'fn main() {}' > src/main.rs \
 && cp src/main.rs benches/api.rs \
 && cp src/main.rs benches/soak.rs \
 && touch src/lib.rs \
 && cargo build --release --locked --target "$(rustc -vV | sed -n 's/^host: //p')" \
 && rm -rf src
COPY src ./src
# The OpenAPI document's request examples are embedded from here.
COPY fixtures/requests ./fixtures/requests
RUN touch src/main.rs src/lib.rs \
 && target="$(rustc -vV | sed -n 's/^host: //p')" \
 && cargo build --release --locked --target "$target" \
 && cp "target/$target/release/k2-sandbox" /k2-sandbox

FROM scratch
COPY --from=builder /k2-sandbox /k2-sandbox
# The image listens on every interface; the binary's own default is loopback only.
ENV K2_SANDBOX_HOST=0.0.0.0 \
    K2_SANDBOX_PORT=8080 \
    K2_SANDBOX_URL=http://127.0.0.1:8080
EXPOSE 8080
USER 65532:65532
HEALTHCHECK --interval=5s --timeout=3s --start-period=2s --retries=3 \
    CMD ["/k2-sandbox", "healthcheck"]
ENTRYPOINT ["/k2-sandbox"]
CMD ["serve"]
