<?php
// composer require firebase/php-jwt
use Firebase\JWT\JWT;

function frontdesk_identity_token(array $user): string {
    $claims = [
        'id'    => (string) $user['id'],   // required: your own, stable user id
        'name'  => $user['name'],
        'email' => $user['email'],
        'plan'  => $user['plan'] ?? null,  // any other field agents should see
        'exp'   => time() + 3600,          // valid for an hour
    ];
    return JWT::encode($claims, getenv('FRONTDESK_IDENTITY_SECRET'), 'HS256');
}
