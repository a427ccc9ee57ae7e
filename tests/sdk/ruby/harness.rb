# frozen_string_literal: true

# What the Ruby SDK checks share: a callback receiver on 127.0.0.1 that keeps each delivery's
# parsed body and signature (as a Rails controller would get them: `JSON.parse(request.body)`
# and the X-KopoKopo-Signature header), waiting for a named delivery, triggering simulated
# activity, and one line per check with a closing count. A known SDK bug is a named known
# failure with its cause: it never counts as a pass, and one that stops failing fails the run.
require "json"
require "net/http"
require "socket"

class Harness
  WAIT = 15

  Delivery = Struct.new(:payload, :signature)

  def initialize(label, base)
    @label = label
    @base = base.chomp("/")
    @deliveries = Hash.new { |h, k| h[k] = [] }
    @lock = Mutex.new
    @arrived = ConditionVariable.new
    @results = []
  end

  # Starts the receiver; its base URL.
  def listen
    server = TCPServer.new("127.0.0.1", 0)
    Thread.new { loop { Thread.new(server.accept) { |client| receive(client) } } }
    "http://127.0.0.1:#{server.addr[1]}/cb"
  end

  def wait_for(name)
    deadline = Time.now + WAIT
    @lock.synchronize do
      while @deliveries[name].empty?
        left = deadline - Time.now
        raise "no #{name} delivery within #{WAIT} s" if left <= 0

        @arrived.wait(@lock, left)
      end
      @deliveries[name].shift
    end
  end

  # A request to the sandbox itself: the control plane, or (with a token) the API.
  def control(method, path, body = nil, token: nil)
    uri = URI("#{@base}#{path}")
    headers = { "Content-Type" => "application/json" }
    headers["Authorization"] = "Bearer #{token}" if token
    request = Net::HTTP.const_get(method.capitalize).new(uri, headers)
    request.body = JSON.generate(body) if body
    response = Net::HTTP.start(uri.host, uri.port) { |http| http.request(request) }
    raise "#{method} #{path}: #{response.code} #{response.body}" unless response.code.start_with?("2")

    response.body.to_s.empty? ? {} : JSON.parse(response.body)
  end

  def trigger(body)
    control("POST", "/_sandbox/events", body)
  end

  def check(name)
    yield
    @results << :passed
    puts "ok   #{@label} #{name}"
  rescue StandardError, ScriptError => e
    @results << :failed
    puts "FAIL #{@label} #{name}: #{e.class}: #{e.message}\n    #{e.backtrace.first(3).join("\n    ")}"
  end

  def known(name, cause)
    yield
  rescue StandardError, ScriptError => e
    @results << :known
    puts "KNOWN #{@label} #{name}: #{cause} (#{e.class}: #{e.message})"
  else
    @results << :failed
    puts "FAIL #{@label} #{name}: listed as a known SDK bug (#{cause}) but it passed: update the list"
  end

  def finish
    failed = @results.count(:failed)
    known = @results.count(:known)
    puts "#{@results.size - failed - known} passed, #{known} known SDK bugs, #{failed} failed"
    exit(failed.zero? ? 0 : 1)
  end

  private

  def receive(client)
    head = +""
    head << client.readpartial(1) until head.end_with?("\r\n\r\n")
    path = head[%r{\A\w+ (\S+)}, 1]
    length = head[/^content-length:\s*(\d+)/i, 1].to_i
    signature = head[/^x-kopokopo-signature:\s*(\S+)/i, 1]
    body = +""
    body << client.readpartial(length - body.bytesize) while body.bytesize < length
    client.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    client.close
    @lock.synchronize do
      @deliveries[path.split("/").last] << Delivery.new(JSON.parse(body), signature)
      @arrived.broadcast
    end
  end
end

def assert(condition, message)
  raise message unless condition
end

def assert_equal(actual, expected, what)
  raise "#{what}: #{actual.inspect}, expected #{expected.inspect}" unless actual == expected
end
