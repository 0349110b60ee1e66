// Throughput of ActiveMQ through its own OpenWire JMS client, the same workload actormq-bench
// runs against ActorMQ: P producer and C consumer connections on one queue, N text messages of
// SIZE bytes, persistent sends synchronous (ActiveMQ's default for persistent messages), auto
// acknowledgement. Prints one line: "rate=<messages received per second> ...".
// Used by tools/side-by-side.sh; compiled there with javac against Debian's libactivemq-java.
//
//   java -cp CLASSPATH ActiveMqBench URL QUEUE N SIZE PERSISTENT PRODUCERS CONSUMERS
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.jms.Connection;
import javax.jms.DeliveryMode;
import javax.jms.JMSException;
import javax.jms.MessageConsumer;
import javax.jms.MessageProducer;
import javax.jms.Session;
import org.apache.activemq.ActiveMQConnectionFactory;

public class ActiveMqBench {
    public static void main(String[] a) throws Exception {
        if (a.length != 7) {
            System.err.println("usage: ActiveMqBench URL QUEUE N SIZE PERSISTENT PRODUCERS CONSUMERS");
            System.exit(2);
        }
        String url = a[0], queue = a[1];
        int n = Integer.parseInt(a[2]), size = Integer.parseInt(a[3]);
        boolean persistent = Boolean.parseBoolean(a[4]);
        int producers = Integer.parseInt(a[5]), consumers = Integer.parseInt(a[6]);
        char[] chars = new char[size];
        Arrays.fill(chars, 'x');
        String body = new String(chars);
        ActiveMQConnectionFactory factory = new ActiveMQConnectionFactory(url);
        List<Connection> connections = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger received = new AtomicInteger();
        AtomicLong lastReceive = new AtomicLong();
        CountDownLatch done = new CountDownLatch(1);
        CountDownLatch ready = new CountDownLatch(consumers + producers);
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < consumers; i++) {
            threads.add(start(() -> {
                Connection c = open(factory, connections);
                Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
                MessageConsumer consumer = s.createConsumer(s.createQueue(queue));
                ready.countDown();
                while (done.getCount() > 0) {
                    if (consumer.receive(200) == null)
                        continue;
                    if (received.incrementAndGet() >= n) {
                        lastReceive.set(System.nanoTime());
                        done.countDown();
                    }
                }
            }));
        }
        for (int i = 0; i < producers; i++) {
            final int share = n / producers + (i < n % producers ? 1 : 0);
            threads.add(start(() -> {
                Connection c = open(factory, connections);
                Session s = c.createSession(false, Session.AUTO_ACKNOWLEDGE);
                MessageProducer producer = s.createProducer(s.createQueue(queue));
                producer.setDeliveryMode(persistent ? DeliveryMode.PERSISTENT : DeliveryMode.NON_PERSISTENT);
                ready.countDown();
                go.await();
                for (int k = 0; k < share; k++)
                    producer.send(s.createTextMessage(body));
            }));
        }
        if (!ready.await(60, TimeUnit.SECONDS)) {
            System.err.println("connections did not open within 60 s");
            System.exit(1);
        }
        long start = System.nanoTime();
        go.countDown();
        boolean ok = done.await(600, TimeUnit.SECONDS);
        long end = ok ? lastReceive.get() : System.nanoTime();
        double seconds = (end - start) / 1e9;
        System.out.printf("rate=%.1f received=%d of %d seconds=%.3f ok=%b%n", received.get() / seconds,
                          received.get(), n, seconds, ok);
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

    static Thread start(Body body) {
        Thread t = new Thread(() -> {
            try {
                body.run();
            } catch (Exception e) {
                e.printStackTrace();
                System.exit(1);
            }
        });
        t.start();
        return t;
    }

    static Connection open(ActiveMQConnectionFactory factory, List<Connection> connections) throws JMSException {
        Connection c = factory.createConnection();
        c.start();
        connections.add(c);
        return c;
    }
}
