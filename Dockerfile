# syntax=docker/dockerfile:1
#
# vault-fetch-relay: a static (musl) binary on distroless/static, running as non-root. The image is the
# minimal flavour (no dev server, no demo); CI builds a second, dev-flavoured image with
# --build-arg CARGO_FEATURES= to run the dev server for its image test (scripts/test-image.sh).
#   docker build -t vault-fetch-relay .
#   docker run --rm -e WORKOS_API_KEY -v "$PWD/relay:/.relay" vault-fetch-relay          # init (default)
#   docker run --rm -e WORKOS_API_KEY vault-fetch-relay check
#
# The builder runs on the build machine's platform and cross-compiles for the target one with
# cargo-zigbuild (zig as C compiler and linker for ring), so a multi-arch build needs no emulation.
# Its Rust is the version in rust-toolchain.toml; keep the two equal (tests/ci_workflow.rs checks).

# Base images are pinned by tag (what we mean) and digest (what we get: a tag can be re-pushed). The
# digests are the multi-arch index ones. Dependabot (.github/dependabot.yml, docker ecosystem) proposes
# a new digest when a tag is rebuilt; by hand: `crane digest rust:1.95.0-bookworm` (or
# `docker buildx imagetools inspect IMAGE:TAG`) and replace the part after @. A new Rust version is a
# change of rust-toolchain.toml, Cargo.toml's rust-version and this line together.
FROM --platform=$BUILDPLATFORM rust:1.95.0-bookworm@sha256:6258907abe69656e41cd992e0b705cdcfabcbbe3db374f92ed2d47121282d4a1 AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3-venv \
    && rm -rf /var/lib/apt/lists/*
# The same cargo-zigbuild (and its PyPI zig) as the release workflow.
RUN python3 -m venv /opt/zig && /opt/zig/bin/pip install --no-cache-dir "cargo-zigbuild==0.24.0"
ENV PATH="/opt/zig/bin:$PATH"
ARG TARGETARCH
RUN case "$TARGETARCH" in \
      amd64) echo x86_64-unknown-linux-musl ;; \
      arm64) echo aarch64-unknown-linux-musl ;; \
      *) echo "unsupported TARGETARCH $TARGETARCH" >&2; exit 1 ;; \
    esac > /rust-target
WORKDIR /src
COPY rust-toolchain.toml ./
RUN rustup target add "$(cat /rust-target)"
COPY Cargo.toml Cargo.lock ./
COPY src ./src
# The workspace's other members: the shared crate is built into every flavour; the dev server's
# crate only with the dev-server feature, but Cargo resolves the whole workspace either way.
COPY crates ./crates
# The empty task-volume mount points of the final image (distroless has no shell to make them there).
RUN install -d -m 0755 /mounts/relay /mounts/vfr
# Empty for the full build (dev server and demo included).
ARG CARGO_FEATURES=--no-default-features
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    target="$(cat /rust-target)" \
    && cargo zigbuild --release --locked --target "$target" $CARGO_FEATURES \
    && install -D -m 0755 "target/$target/release/vault-fetch-relay" /out/vault-fetch-relay

FROM gcr.io/distroless/static-debian12:nonroot@sha256:b7bb25d9f7c31d2bdd1982feb4dafcaf137703c7075dbe2febb41c24212b946f
COPY --from=build /out/vault-fetch-relay /vault-fetch-relay
# The ECS module's task volumes (init's /relay, exec's /vfr), owned by our user: on Fargate a bind mount
# mounted at an image VOLUME path starts with that directory's content, owner and mode; anywhere else it
# is root's, 0755, which uid 65532 cannot write (terraform/README.md, "Fargate task volumes").
COPY --from=build --chown=65532:65532 /mounts/relay /relay
COPY --from=build --chown=65532:65532 /mounts/vfr /vfr
VOLUME ["/relay", "/vfr"]
# 65532:65532 ("nonroot"); init writes only to the mounted credentials volume (default /.relay), so the
# root filesystem can be read-only.
USER 65532:65532
ENTRYPOINT ["/vault-fetch-relay"]
CMD ["init"]
