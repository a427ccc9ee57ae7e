<?php
// Every call of the PHP SDK 1.4.0, in the order an integration makes them (see check.php).

$tokens = $K2->TokenService();
check('TokenService::getToken', function () use ($tokens, &$state) {
    $token = $tokens->getToken();
    check_status($token, 'getToken');
    same($token['data']['tokenType'], 'Bearer', 'tokenType');
    $state['token'] = $token['data']['accessToken'];
});
$accessToken = $state['token'];
check('TokenService::infoToken', function () use ($tokens, $accessToken) {
    $info = $tokens->infoToken(['accessToken' => $accessToken]);
    check_status($info, 'infoToken');
    same($info['data']['applicationId'], getenv('K2_CLIENT_ID') ?: 'sandbox-client-id', 'applicationId');
});
check('TokenService::introspectToken', function () use ($tokens, $accessToken) {
    $introspection = $tokens->introspectToken(['accessToken' => $accessToken]);
    check_status($introspection, 'introspectToken');
    same($introspection['data']['active'], true, 'active');
});
$other = $tokens->getToken()['data']['accessToken'];
check('TokenService::revokeToken', function () use ($tokens, $other) {
    check_status($tokens->revokeToken(['accessToken' => $other]), 'revokeToken');
});
known('TokenService::introspectToken of a revoked token', 'it reads scope, client_id, token_type, exp and iat, ' .
    'which the standard answer for an inactive token ({"active": false}) leaves out', function () use ($tokens, $other) {
    $introspection = $tokens->introspectToken(['accessToken' => $other]);
    check_status($introspection, 'introspectToken');
    same($introspection['data']['active'], false, 'active');
});

check('Webhooks::subscribe (every event type) + getStatus', function () use ($K2, $accessToken, $receiver) {
    $events = ['buygoods_transaction_received', 'buygoods_transaction_reversed', 'b2b_transaction_received',
        'settlement_transfer_completed', 'customer_created', 'm2m_transaction_received'];
    foreach ($events as $eventType) {
        $url = "$receiver/$eventType";
        $subscribed = $K2->Webhooks()->subscribe(['eventType' => $eventType, 'url' => $url, 'scope' => 'company',
            'scopeReference' => '', 'accessToken' => $accessToken]);
        check_status($subscribed, "subscribe $eventType");
        $status = $K2->Webhooks()->getStatus(['location' => $subscribed['location'], 'accessToken' => $accessToken]);
        check_status($status, "getStatus $eventType");
        same([$status['data']['eventType'], $status['data']['webhookUri']], [$eventType, $url], 'subscription');
    }
});

check('StkService::initiateIncomingPayment + getStatus + callback', function () use ($K2, $accessToken, $receiver, &$state) {
    $metadata = ['customer_id' => '123456789', 'reference' => '123456', 'notes' => 'Payment for invoice 12345'];
    $stk = $K2->StkService();
    $initiated = $stk->initiateIncomingPayment(['paymentChannel' => 'M-PESA STK Push', 'tillNumber' => TILL,
        'firstName' => 'Jane', 'lastName' => 'Doe', 'phoneNumber' => '+254712345678', 'email' => 'jane@example.com',
        'amount' => 100, 'currency' => 'KES', 'metadata' => $metadata, 'callbackUrl' => "$receiver/incoming_payment",
        'accessToken' => $accessToken]);
    check_status($initiated, 'initiateIncomingPayment');
    [$parsed] = delivery('incoming_payment');
    same([$parsed['status'], $parsed['amount'], $parsed['tillNumber'], $parsed['senderPhoneNumber']],
        ['Success', '100.0', TILL, '+254712345678'], 'result');
    same($parsed['metadata'], $metadata, 'metadata');
    $state['transaction'] = $parsed['reference'];
    $status = $stk->getStatus(['location' => $initiated['location'], 'accessToken' => $accessToken]);
    check_status($status, 'getStatus');
    same($status['data'], $parsed, 'GET and the callback, as parsed');
    [$event] = delivery('buygoods_transaction_received');
    same($event['reference'], $state['transaction'], 'the webhook names the payment');
    $state['event'] = $event['id'];
});

foreach ([
    ['b2b_transaction_received', ['till_number' => TILL, 'amount' => 300, 'sending_till' => '000777'],
        fn ($w) => same([$w['amount'], $w['sendingTill']], ['300.0', '000777'], 'amount, sendingTill')],
    ['buygoods_transaction_reversed', ['transaction' => $state['transaction'] ?? null],
        fn ($w) => same($w['reference'], $state['transaction'] ?? null, 'reference')],
    ['customer_created', ['first_name' => 'Ann', 'last_name' => 'Lee', 'phone_number' => '+254700000001'],
        fn ($w) => same([$w['firstName'], $w['lastName'], $w['phoneNumber']], ['Ann', 'Lee', '+254700000001'], 'customer')],
    ['m2m_transaction_received', ['amount' => 456, 'sending_merchant' => 'Jane Flowers'],
        fn ($w) => same([$w['amount'], $w['sendingMerchant']], ['456.0', 'Jane Flowers'], 'amount, sendingMerchant')],
] as [$type, $fields, $expect]) {
    check("$type webhook", function () use ($type, $fields, $expect) {
        $triggered = trigger(['type' => $type] + $fields);
        [$parsed] = delivery($type);
        same([$parsed['id'], $parsed['topic']], [$triggered['id'], $type], 'id, topic');
        $expect($parsed);
    });
}

// A name holding the characters Rails escapes: the SDK hashes the raw body, so it verifies the
// bytes the real API sends (docs/fidelity.md).
check('customer_created webhook holding the characters Rails escapes', function () {
    $name = "Ann & Co\u{2028}<Ltd>\u{2029} Kenya";
    trigger(['type' => 'customer_created', 'first_name' => $name, 'last_name' => 'Doe']);
    [$parsed] = delivery('customer_created');
    same($parsed['firstName'], $name, 'firstName');
});

$transfers = $K2->SettlementTransferService();
check('SettlementTransferService::createMerchantBankAccount + createMerchantWallet + getStatus', function () use ($transfers, $accessToken, &$state) {
    // The bank account first: a settlement goes to the first account.
    $bank = $transfers->createMerchantBankAccount(['accountName' => 'Jane Doe', 'bankBranchRef' => BRANCH,
        'accountNumber' => '123456789', 'settlementMethod' => 'EFT', 'accessToken' => $accessToken]);
    check_status($bank, 'createMerchantBankAccount');
    $status = $transfers->getStatus(['location' => $bank['location'], 'accessToken' => $accessToken]);
    same([$status['data']['type'], $status['data']['settlementMethod']], ['merchant_bank_account', 'EFT'], 'bank');
    $wallet = $transfers->createMerchantWallet(['firstName' => 'Jane', 'lastName' => 'Doe',
        'phoneNumber' => '+254712345678', 'network' => 'Safaricom', 'accessToken' => $accessToken]);
    check_status($wallet, 'createMerchantWallet');
    $status = $transfers->getStatus(['location' => $wallet['location'], 'accessToken' => $accessToken]);
    same([$status['data']['type'], $status['data']['phoneNumber']], ['merchant_wallet', '+254712345678'], 'wallet');
    $state['wallet'] = $status['data']['accountReference'];
});

known('settlement_transfer_completed webhook (to a bank account)', 'TransferCompletedData reads the bank fields ' .
    'from event.resource.destination instead of destination.resource', function () {
    trigger(['type' => 'settlement_transfer_completed', 'amount' => 50]);
    delivery('settlement_transfer_completed');
});

check('SettlementTransferService::settleFunds (targeted) + getStatus + callback', function () use ($transfers, $accessToken, $receiver, &$state) {
    control('PUT', '/_sandbox/balances', ['balance' => '5000']);
    $settled = $transfers->settleFunds(['destinationType' => 'merchant_wallet', 'destinationReference' => $state['wallet'],
        'amount' => 100, 'currency' => 'KES', 'callbackUrl' => "$receiver/transfer", 'accessToken' => $accessToken]);
    check_status($settled, 'settleFunds');
    [$parsed] = delivery('transfer');
    same([$parsed['status'], $parsed['amount']], ['Processed', '100.0'], 'result');
    $status = $transfers->getStatus(['location' => $settled['location'], 'accessToken' => $accessToken]);
    same($status['data'], $parsed, 'GET and the callback, as parsed');
});
check('SettlementTransferService::settleFunds (blind) + callback', function () use ($transfers, $accessToken, $receiver) {
    control('PUT', '/_sandbox/balances', ['balance' => '5000']);
    check_status($transfers->settleFunds(['currency' => 'KES', 'callbackUrl' => "$receiver/transfer",
        'accessToken' => $accessToken]), 'settleFunds');
    [$parsed] = delivery('transfer');
    same($parsed['status'], 'Processed', 'status');
});

$pay = $K2->PayService();
check('PayService::addPayRecipient (mobile, bank, till) + getStatus', function () use ($pay, $accessToken, &$state) {
    foreach ([
        ['type' => 'mobile_wallet', 'firstName' => 'John', 'lastName' => 'Doe', 'email' => 'john@example.com',
            'phoneNumber' => '+254712345679', 'network' => 'Safaricom'],
        ['type' => 'bank_account', 'accountName' => 'John Doe', 'bankBranchRef' => BRANCH,
            'accountNumber' => '987654321', 'settlementMethod' => 'RTS'],
        ['type' => 'till', 'tillName' => 'Shop', 'tillNumber' => '123456'],
    ] as $recipient) {
        $added = $pay->addPayRecipient($recipient + ['accessToken' => $accessToken]);
        check_status($added, "addPayRecipient {$recipient['type']}");
        $status = $pay->getStatus(['location' => $added['location'], 'accessToken' => $accessToken]);
        same($status['data']['type'], 'pay_recipient', 'type');
        $state['recipients'][$recipient['type']] = $status['data']['recipientReference'];
    }
});
known('PayService::addPayRecipient (paybill) + getStatus', 'PayRecipientData has no Paybill case: it reads ' .
    'the other types\' keys', function () use ($pay, $accessToken) {
    $added = $pay->addPayRecipient(['type' => 'paybill', 'paybillName' => 'KPLC', 'paybillNumber' => '888880',
        'paybillAccountNumber' => 'ACC-1', 'accessToken' => $accessToken]);
    check_status($added, 'addPayRecipient paybill');
    $status = $pay->getStatus(['location' => $added['location'], 'accessToken' => $accessToken]);
    check_status($status, 'getStatus');
});
check('PayService::sendPay + getStatus + callback', function () use ($pay, $accessToken, $receiver, &$state) {
    control('PUT', '/_sandbox/balances', ['balance' => '5000']);
    $metadata = ['customerId' => '8675309', 'notes' => 'Salary payment'];
    $sent = $pay->sendPay(['destinationType' => 'mobile_wallet', 'destinationReference' => $state['recipients']['mobile_wallet'],
        'amount' => 100, 'currency' => 'KES', 'description' => 'Salary', 'category' => 'salaries', 'tags' => 'tag 1',
        'metadata' => $metadata, 'callbackUrl' => "$receiver/payment", 'accessToken' => $accessToken]);
    check_status($sent, 'sendPay');
    [$parsed] = delivery('payment');
    same([$parsed['status'], $parsed['amount']], ['Processed', '100.0'], 'result');
    ksort($metadata);
    ksort($parsed['metadata']);
    same($parsed['metadata'], $metadata, 'metadata');
    $status = $pay->getStatus(['location' => $sent['location'], 'accessToken' => $accessToken]);
    same($status['data']['status'], 'Processed', 'status');
});

check('PollingService::pollTransactions + getStatus + callback', function () use ($K2, $accessToken, $receiver, &$state) {
    $polled = $K2->PollingService()->pollTransactions(['scope' => 'till', 'scopeReference' => TILL,
        'fromTime' => '2020-01-01T00:00:00+03:00', 'toTime' => '2100-01-01T00:00:00+03:00',
        'callbackUrl' => "$receiver/polling", 'accessToken' => $accessToken]);
    check_status($polled, 'pollTransactions');
    [$parsed] = delivery('polling');
    $references = array_map(fn ($t) => $t['resource']['reference'], $parsed['transactions']);
    if (!in_array($state['transaction'], $references, true)) {
        throw new RuntimeException('the payment is not listed: ' . json_encode($references));
    }
    $status = $K2->PollingService()->getStatus(['location' => $polled['location'], 'accessToken' => $accessToken]);
    same($status['data'], $parsed, 'GET and the callback, as parsed');
});

check('SmsNotificationService::sendTransactionSmsNotification + getStatus + callback', function () use ($K2, $accessToken, $receiver, &$state) {
    $sent = $K2->SmsNotificationService()->sendTransactionSmsNotification(['webhookEventReference' => $state['event'],
        'message' => 'Thank you', 'callbackUrl' => "$receiver/sms", 'accessToken' => $accessToken]);
    check_status($sent, 'sendTransactionSmsNotification');
    [$parsed] = delivery('sms');
    same([$parsed['status'], $parsed['message']], ['Success', 'Thank you'], 'result');
    $status = $K2->SmsNotificationService()->getStatus(['location' => $sent['location'], 'accessToken' => $accessToken]);
    same($status['data'], $parsed, 'GET and the callback, as parsed');
});

check('a delivery with a wrong signature is rejected by the SDK', function () use ($K2) {
    $handled = $K2->Webhooks()->webhookHandler('{"topic":"customer_created"}', str_repeat('00', 32));
    same($handled['status'], 'error', 'status');
});
