# A one-shot job that loads Trillian's MySQL schema (storage/mysql/schema/
# storage.sql of the trillian module, taken from the Go module proxy, not
# copied into this repository) into the database named by $MYSQL_DATABASE,
# unless its Trees table already exists.
#   docker build -f deploy/images/trillian-schema.Dockerfile -t evidencegw-trillian-schema:v1.7.3 .
FROM golang:1.26 AS schema
ARG TRILLIAN_VERSION=v1.7.3
RUN dir=$(go mod download -json github.com/google/trillian@${TRILLIAN_VERSION} | sed -n 's/.*"Dir": "\(.*\)",/\1/p') \
 && cp "$dir/storage/mysql/schema/storage.sql" /storage.sql

FROM mysql:8.4
COPY --from=schema /storage.sql /schema/storage.sql
# MYSQL_HOST, MYSQL_DATABASE, MYSQL_USER and MYSQL_PASSWORD_FILE come from the
# environment; the password never appears in argv (MYSQL_PWD is read by the client).
ENTRYPOINT ["/bin/sh", "-ec", "\
  export MYSQL_PWD=\"$(cat \"$MYSQL_PASSWORD_FILE\")\"; \
  until mysqladmin -h \"$MYSQL_HOST\" -u \"$MYSQL_USER\" ping >/dev/null 2>&1; do sleep 2; done; \
  n=$(mysql -h \"$MYSQL_HOST\" -u \"$MYSQL_USER\" -N -e \"SELECT COUNT(*) FROM information_schema.tables WHERE table_schema='$MYSQL_DATABASE' AND table_name='Trees'\"); \
  if [ \"$n\" = 0 ]; then mysql -h \"$MYSQL_HOST\" -u \"$MYSQL_USER\" \"$MYSQL_DATABASE\" < /schema/storage.sql; echo schema loaded; else echo schema present; fi"]
