import { Injectable, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { ConfigError, RewindConfig } from './config';
import { InjectRewindConfig, REWIND_CONFIG, RewindConfigModule } from './rewind-config.module';

@Injectable()
class NeedsConfig {
  constructor(@InjectRewindConfig() readonly config: RewindConfig) {}
}

@Module({ providers: [NeedsConfig], exports: [NeedsConfig] })
class FeatureModule {}

describe('RewindConfigModule', () => {
  it('provides the validated configuration to every module, typed and through ConfigService', async () => {
    @Module({ imports: [RewindConfigModule.forRoot({ env: { REWIND_API_PORT: '9100', REWIND_LOG_LEVEL: 'warn' } }), FeatureModule] })
    class AppModule {}
    const moduleRef = await NestFactory.createApplicationContext(AppModule, { logger: false });
    const sut = moduleRef.get(NeedsConfig);
    expect(sut.config).toMatchObject({ apiPort: 9100, logLevel: 'warn', proxyPort: 8081 });
    expect(moduleRef.get(REWIND_CONFIG)).toBe(sut.config);
    expect(moduleRef.get(ConfigService).get<RewindConfig>('rewind')?.apiPort).toBe(9100);
    await moduleRef.close();
  });

  it('stops the start with the ConfigError naming the variable and the bad value', async () => {
    @Module({ imports: [RewindConfigModule.forRoot({ env: { REWIND_PROXY_PORT: 'eighty' } }), FeatureModule] })
    class BadModule {}
    const attempt = NestFactory.createApplicationContext(BadModule, { logger: false, abortOnError: false });
    await expect(attempt).rejects.toThrow(ConfigError);
    await expect(attempt).rejects.toThrow('REWIND_PROXY_PORT must be an integer from 1 to 65535 (got "eighty")');
  });
});
