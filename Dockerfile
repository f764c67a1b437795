# syntax=docker/dockerfile:1
#
# vault-fetch-relay: a static (musl) binary on distroless/static, running as non-root.
#   docker build -t vault-fetch-relay .
#   docker run --rm -e WORKOS_API_KEY -v "$PWD/relay:/.relay" vault-fetch-relay          # init (default)
#   docker run --rm -e WORKOS_API_KEY vault-fetch-relay check
#
# The builder runs on the target platform (no --platform=$BUILDPLATFORM), so `uname -m` gives the target
# architecture and the native musl-tools compile ring's C/assembly parts for it.

FROM rust:1-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends musl-tools \
    && rm -rf /var/lib/apt/lists/*
RUN rustup target add "$(uname -m)-unknown-linux-musl"
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    target="$(uname -m)-unknown-linux-musl" \
    && TARGET_CC=musl-gcc cargo build --release --locked --target "$target" \
    && install -D -m 0755 "target/$target/release/vault-fetch-relay" /out/vault-fetch-relay

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/vault-fetch-relay /vault-fetch-relay
# 65532:65532 ("nonroot"); init writes only to the mounted credentials volume (default /.relay).
USER 65532:65532
ENTRYPOINT ["/vault-fetch-relay"]
CMD ["init"]
