/**
 * The baseline for "append through NATS": a bare NestJS microservice on the same NATS transport as
 * the session service, with one handler that returns its input. Whatever it costs per request is the
 * framework and the wire, with no validation and no store behind it. Started by compare.ts as a child
 * process so its CPU is measured apart; prints a ready line the parent waits for.
 *
 *   NATS_URL=nats://127.0.0.1:4222 node bench/dist/echo-service.js
 */
import 'reflect-metadata';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, Payload, Transport } from '@nestjs/microservices';
import type { MicroserviceOptions } from '@nestjs/microservices';
import { ECHO_READY_LINE, ECHO_SUBJECT } from './echo-wire';

@Controller()
class EchoController {
  @MessagePattern(ECHO_SUBJECT)
  echo(@Payload() body: unknown): unknown {
    return body;
  }
}

@Module({ controllers: [EchoController] })
class EchoModule {}

async function main(): Promise<void> {
  const natsUrl = process.env['NATS_URL'];
  if (!natsUrl) throw new Error('NATS_URL must name the NATS server to serve on');
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(EchoModule, {
    transport: Transport.NATS,
    // A queue group, as the session service subscribes in one.
    options: { servers: natsUrl, queue: 'bench-echo' },
    logger: ['error', 'warn'],
  });
  await app.listen();
  process.stdout.write(`${ECHO_READY_LINE}\n`);
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

main().catch((error: unknown) => {
  process.stderr.write(`echo-service: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
