# Sourced by tools/side-by-side.sh and tools/stomp-side-by-side.sh: free ports, waiting for a
# port, stopping a started process, and ActiveMQ 5.17 (Debian's `activemq` package) started in the background with Debian's
# shipped instance settings in a folder of the caller's.

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
listening() { ss -ltnH "sport = :$1" | grep -q LISTEN; }
# Stops a process this script started: SIGTERM, up to 10 s, then SIGKILL.
stop_pid() {
  kill "$1" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$1" 2>/dev/null || true
}
wait_port() {
  for _ in $(seq 600); do listening "$1" && return 0; sleep 0.1; done
  echo "$2 did not open port $1 within 60 s" >&2; return 1
}

# start_activemq DIR BROKER_NAME CONNECTORS_XML: writes DIR/conf (KahaDB with its defaults, a
# synced journal write per persistent send, no JMX; the connectors given) and starts the broker
# with the JVM settings of Debian's /usr/bin/activemq and /etc/default/activemq. Sets AMQ_PID.
start_activemq() {
  local dir=$1 name=$2 connectors=$3
  mkdir -p "$dir/conf" "$dir/data"
  cat >"$dir/conf/activemq.xml" <<EOF
<beans xmlns="http://www.springframework.org/schema/beans"
       xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
       xsi:schemaLocation="http://www.springframework.org/schema/beans http://www.springframework.org/schema/beans/spring-beans-2.0.xsd
                           http://activemq.apache.org/schema/core http://activemq.apache.org/schema/core/activemq-core.xsd">
  <!-- Debian's shipped instance settings: KahaDB with its defaults (a synced journal write per
       persistent send), no JMX; only the ports and the folders are ours. -->
  <broker xmlns="http://activemq.apache.org/schema/core" useJmx="false" brokerName="$name"
          dataDirectory="$dir/data">
    <persistenceAdapter><kahaDB directory="$dir/data/kahadb"/></persistenceAdapter>
    <transportConnectors>
$connectors
    </transportConnectors>
  </broker>
</beans>
EOF
  echo "log4j.rootLogger=WARN, out
log4j.appender.out=org.apache.log4j.FileAppender
log4j.appender.out.File=$dir/activemq.log
log4j.appender.out.layout=org.apache.log4j.PatternLayout" >"$dir/conf/log4j.properties"
  (cd "$dir" && exec java -Xms512M -Xmx512M -Dorg.apache.activemq.UseDedicatedTaskRunner=true \
    --add-reads=java.xml=java.logging \
    --add-opens java.base/java.security=ALL-UNNAMED --add-opens java.base/java.net=ALL-UNNAMED \
    --add-opens java.base/java.lang=ALL-UNNAMED --add-opens java.base/java.util=ALL-UNNAMED \
    --add-opens java.naming/javax.naming.spi=ALL-UNNAMED \
    --add-opens java.rmi/sun.rmi.transport.tcp=ALL-UNNAMED \
    --add-opens java.base/java.util.concurrent=ALL-UNNAMED \
    --add-opens java.base/java.util.concurrent.atomic=ALL-UNNAMED \
    -Dactivemq.classpath="$dir/conf" -Dactivemq.home=/usr/share/activemq \
    -Dactivemq.base="$dir/conf" -Dactivemq.conf="$dir/conf" \
    -Dactivemq.data="$dir/data" \
    -jar /usr/share/activemq/bin/activemq.jar start "xbean:file:$dir/conf/activemq.xml" \
    >"$dir/out.log" 2>&1) &
  AMQ_PID=$!
}
