<?php
// The callback receiver of check.php, served by `php -S`: each delivery's raw body and
// X-KopoKopo-Signature go to a file in K2_PHP_INBOX named after the URL's last segment, as a
// Laravel controller would hand them to the SDK ($request->getContent(), the header).
$name = basename(parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH));
$delivery = json_encode([
    'body' => file_get_contents('php://input'),
    'signature' => $_SERVER['HTTP_X_KOPOKOPO_SIGNATURE'] ?? '',
]);
$inbox = getenv('K2_PHP_INBOX');
$file = sprintf('%s/%s.%s.json', $inbox, $name, hrtime(true));
file_put_contents("$file.part", $delivery);
rename("$file.part", $file);
http_response_code(200);
