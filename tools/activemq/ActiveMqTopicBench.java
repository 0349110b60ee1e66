// Topic throughput of ActiveMQ through its own OpenWire JMS client, the workload
// `actormq-bench --destination topic://T --producers 1 --subscribers S [--durable]` runs against
// ActorMQ: S subscriber connections on one topic (with DURABLE each a durable subscription of its
// own client id, made before the publisher starts and removed at the end), one publisher
// connection sending N text messages of SIZE bytes (persistent sends synchronous, ActiveMQ's
// default), auto acknowledgement. Every subscriber must receive every message. Prints one line:
// "rate=<deliveries per second, summed over subscribers> sent_rate=<sends per second> ...".
// Used by tools/side-by-side.sh (--topics); compiled there with javac against Debian's
// libactivemq-java.
//
//   java -cp CLASSPATH ActiveMqTopicBench URL TOPIC N SIZE PERSISTENT SUBSCRIBERS DURABLE
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.jms.Connection;
import javax.jms.DeliveryMode;
import javax.jms.JMSException;
import javax.jms.MessageConsumer;
import javax.jms.MessageProducer;
import javax.jms.Session;
import javax.jms.Topic;
import org.apache.activemq.ActiveMQConnectionFactory;

public class ActiveMqTopicBench {
    public static void main(String[] a) throws Exception {
        if (a.length != 7) {
            System.err.println("usage: ActiveMqTopicBench URL TOPIC N SIZE PERSISTENT SUBSCRIBERS DURABLE");
            System.exit(2);
        }
        String url = a[0], topic = a[1];
        int n = Integer.parseInt(a[2]), size = Integer.parseInt(a[3]);
        boolean persistent = Boolean.parseBoolean(a[4]);
        int subscribers = Integer.parseInt(a[5]);
        boolean durable = Boolean.parseBoolean(a[6]);
        char[] chars = new char[size];
        Arrays.fill(chars, 'x');
        String body = new String(chars);
        ActiveMQConnectionFactory factory = new ActiveMQConnectionFactory(url);
        List<Connection> connections = Collections.synchronizedList(new ArrayList<>());
        long expected = (long) n * subscribers;
        AtomicLong received = new AtomicLong();
        AtomicLong lastReceive = new AtomicLong();
        AtomicLong lastSend = new AtomicLong();
        CountDownLatch done = new CountDownLatch(1);
        CountDownLatch finished = new CountDownLatch(subscribers);
        CountDownLatch ready = new CountDownLatch(subscribers + 1);
        CountDownLatch go = new CountDownLatch(1);
        for (int i = 0; i < subscribers; i++) {
            final String clientId = topic + "-sub-" + i;
            start(() -> {
                Connection c = factory.createConnection();
                if (durable)
                    c.setClientID(clientId);
                c.start();
                connections.add(c);
                Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
                Topic t = s.createTopic(topic);
                MessageConsumer consumer =
                    durable ? s.createDurableSubscriber(t, "bench") : s.createConsumer(t);
                ready.countDown();
                long mine = 0;
                while (mine < n && done.getCount() > 0) {
                    if (consumer.receive(200) == null)
                        continue;
                    ++mine;
                    if (received.incrementAndGet() >= expected) {
                        lastReceive.set(System.nanoTime());
                        done.countDown();
                    }
                }
                consumer.close();
                if (durable)
                    s.unsubscribe("bench");
                finished.countDown();
            });
        }
        start(() -> {
            Connection c = factory.createConnection();
            c.start();
            connections.add(c);
            Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer producer = s.createProducer(s.createTopic(topic));
            producer.setDeliveryMode(persistent ? DeliveryMode.PERSISTENT : DeliveryMode.NON_PERSISTENT);
            ready.countDown();
            go.await();
            for (int k = 0; k < n; k++)
                producer.send(s.createTextMessage(body));
            lastSend.set(System.nanoTime());
        });
        if (!ready.await(60, TimeUnit.SECONDS)) {
            System.err.println("connections did not open within 60 s");
            System.exit(1);
        }
        long start = System.nanoTime();
        go.countDown();
        boolean ok = done.await(600, TimeUnit.SECONDS);
        long end = ok ? lastReceive.get() : System.nanoTime();
        long sendEnd = lastSend.get() != 0 ? lastSend.get() : end;
        double seconds = (end - start) / 1e9;
        double sendSeconds = (sendEnd - start) / 1e9;
        finished.await(60, TimeUnit.SECONDS);
        System.out.printf("rate=%.1f sent_rate=%.1f received=%d of %d seconds=%.3f ok=%b%n",
                          received.get() / seconds, n / sendSeconds, received.get(), expected,
                          seconds, ok);
        for (Connection c : connections)
            try {
                c.close();
            } catch (JMSException e) {
                // closing at the end: nothing to do
            }
        System.exit(ok ? 0 : 1);
    }

    interface Body {
        void run() throws Exception;
    }

    static void start(Body body) {
        new Thread(() -> {
            try {
                body.run();
            } catch (Exception e) {
                e.printStackTrace();
                System.exit(1);
            }
        }).start();
    }
}
