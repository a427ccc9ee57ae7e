<?php
// Drives every call of the official PHP SDK 1.4.0 (k2-connect-php, the v1 API; not on a reachable
// registry: extracted by scripts/test from its pinned GitHub archive, path in K2_PHP_SDK) against
// a running k2-sandbox. Every callback and webhook event goes through the SDK's own
// Webhooks::webhookHandler (HMAC of the raw body, then its data classes), and the parsed values
// are compared with what was sent. A PHP warning (a key the SDK reads that the answer lacks) is
// a failure, as it would be under a framework that turns warnings into exceptions.
//
// Usage: K2_BASE_URL=http://127.0.0.1:PORT K2_PHP_SDK=path php check.php
require __DIR__ . '/autoload.php';

set_error_handler(function (int $severity, string $message, string $file, int $line): bool {
    if (!(error_reporting() & $severity)) {
        return false; // silenced with @
    }
    throw new ErrorException($message, 0, $severity, $file, $line);
});

const TILL = 'K000000';
const BRANCH = '633aa26c-7b7c-4091-ae28-96c0687cf886';
$base = rtrim(getenv('K2_BASE_URL'), '/');
$apiKey = getenv('K2_API_KEY') ?: 'sandbox-api-key';
// The SDK wants its base URL without the trailing slash.
$K2 = new Kopokopo\SDK\K2([
    'clientId' => getenv('K2_CLIENT_ID') ?: 'sandbox-client-id',
    'clientSecret' => getenv('K2_CLIENT_SECRET') ?: 'sandbox-client-secret',
    'apiKey' => $apiKey,
    'baseUrl' => $base,
]);

// --- the receiver: `php -S` with receiver.php, writing each delivery into an inbox -----------
$inbox = sys_get_temp_dir() . '/k2-php-inbox-' . getmypid();
mkdir($inbox);
$port = (function (): int {
    $socket = stream_socket_server('tcp://127.0.0.1:0');
    $port = (int) substr(strrchr(stream_socket_get_name($socket, false), ':'), 1);
    fclose($socket);
    return $port;
})();
$server = proc_open(
    [PHP_BINARY, '-S', "127.0.0.1:$port", __DIR__ . '/receiver.php'],
    [0 => ['file', '/dev/null', 'r'], 1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']],
    $pipes,
    null,
    ['K2_PHP_INBOX' => $inbox] + getenv()
);
register_shutdown_function(function () use ($server, $inbox): void {
    proc_terminate($server);
    array_map('unlink', glob("$inbox/*"));
    rmdir($inbox);
});
$receiver = "http://127.0.0.1:$port/cb";
for ($i = 0; $i < 100 && !@fsockopen('127.0.0.1', $port); $i++) {
    usleep(50000);
}

// The next delivery named $name, handed to the SDK's webhookHandler: its parsed data.
function delivery(string $name): array
{
    global $inbox, $K2;
    $deadline = microtime(true) + 15;
    while (true) {
        $files = glob("$inbox/$name.*.json");
        if ($files) {
            sort($files);
            $delivery = json_decode(file_get_contents($files[0]), true);
            unlink($files[0]);
            $handled = $K2->Webhooks()->webhookHandler($delivery['body'], $delivery['signature']);
            check_status($handled, "the SDK's handling of the $name delivery");
            return [$handled['data'], json_decode($delivery['body'], true)];
        }
        if (microtime(true) > $deadline) {
            throw new RuntimeException("no $name delivery within 15 s");
        }
        usleep(20000);
    }
}

function control(string $method, string $path, array $body): array
{
    global $base;
    $context = stream_context_create(['http' => [
        'method' => $method, 'header' => "Content-Type: application/json\r\n",
        'content' => json_encode($body), 'ignore_errors' => true,
    ]]);
    $answer = file_get_contents("$base$path", false, $context);
    if (!preg_match('{^HTTP/\S+ 2}', $http_response_header[0])) {
        throw new RuntimeException("$method $path: {$http_response_header[0]} $answer");
    }
    return json_decode($answer, true);
}

function trigger(array $body): array
{
    return control('POST', '/_sandbox/events', $body);
}

function check_status(array $answer, string $what): void
{
    if (($answer['status'] ?? null) !== 'success') {
        throw new RuntimeException("$what: " . json_encode($answer));
    }
}

function same($actual, $expected, string $what): void
{
    if ($actual !== $expected) {
        throw new RuntimeException("$what: " . json_encode($actual) . ', expected ' . json_encode($expected));
    }
}

$results = [];
function check(string $name, callable $fn): void
{
    global $results;
    try {
        $fn();
        $results[] = 'passed';
        echo "ok   php 1.4.0 $name\n";
    } catch (Throwable $e) {
        $results[] = 'failed';
        echo "FAIL php 1.4.0 $name: " . get_class($e) . ': ' . $e->getMessage() . ' at ' . basename($e->getFile()) . ':' . $e->getLine() . "\n";
    }
}

// A call an SDK bug breaks: it must fail, and is reported with its cause.
function known(string $name, string $cause, callable $fn): void
{
    global $results;
    try {
        $fn();
    } catch (Throwable $e) {
        $results[] = 'known';
        echo "KNOWN php 1.4.0 $name: $cause (" . $e->getMessage() . ")\n";
        return;
    }
    $results[] = 'failed';
    echo "FAIL php 1.4.0 $name: listed as a known SDK bug ($cause) but it passed: update the list\n";
}

$state = [];
require __DIR__ . '/calls.php';

$failed = count(array_keys($results, 'failed'));
$known = count(array_keys($results, 'known'));
printf("%d passed, %d known SDK bugs, %d failed\n", count($results) - $failed - $known, $known, $failed);
exit($failed ? 1 : 0);
