# Trillian v1.7.3 log server, signer and createtree, built from the Go module
# proxy (the same way deploy/local/up builds them). One image, three commands:
#   docker build -f deploy/images/trillian.Dockerfile -t evidencegw-trillian:v1.7.3 .
FROM golang:1.26 AS build
ARG TRILLIAN_VERSION=v1.7.3
RUN CGO_ENABLED=0 GOBIN=/out go install \
      github.com/google/trillian/cmd/trillian_log_server@${TRILLIAN_VERSION} \
      github.com/google/trillian/cmd/trillian_log_signer@${TRILLIAN_VERSION} \
      github.com/google/trillian/cmd/createtree@${TRILLIAN_VERSION}

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ /usr/local/bin/
USER nonroot
ENTRYPOINT ["/usr/local/bin/trillian_log_server"]
