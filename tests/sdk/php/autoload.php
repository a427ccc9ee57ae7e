<?php
// Loads the PHP SDK 1.4.0 without Composer: its PSR-4 namespaces, read from its own
// composer.json (K2_PHP_SDK is its extracted tree), and Debian's Guzzle (php-guzzlehttp-guzzle).
require_once '/usr/share/php/GuzzleHttp/autoload.php';

(function (string $root): void {
    $composer = json_decode(file_get_contents("$root/composer.json"), true);
    $prefixes = $composer['autoload']['psr-4'];
    // The longest prefix first: Kopokopo\SDK\Data\ before Kopokopo\SDK\.
    uksort($prefixes, fn ($a, $b) => strlen($b) <=> strlen($a));
    spl_autoload_register(function (string $class) use ($root, $prefixes): void {
        foreach ($prefixes as $prefix => $dir) {
            if (strncmp($class, $prefix, strlen($prefix)) === 0) {
                $file = "$root/" . rtrim($dir, '/') . '/' . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
                if (is_file($file)) {
                    require_once $file;
                    return;
                }
            }
        }
    });
})(getenv('K2_PHP_SDK') ?: die("K2_PHP_SDK: the SDK's extracted tree\n"));
