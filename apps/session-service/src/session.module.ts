import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import { CampaignController } from './campaign.controller';
import type { SessionDeps } from './deps';
import { SESSION_DEPS } from './deps';

/** NestJS wiring only: the dependencies are built (and checked) before Nest starts. */
@Module({})
export class SessionModule {
  static forDeps(deps: SessionDeps): DynamicModule {
    return {
      module: SessionModule,
      controllers: [CampaignController],
      providers: [{ provide: SESSION_DEPS, useValue: deps }],
    };
  }
}
