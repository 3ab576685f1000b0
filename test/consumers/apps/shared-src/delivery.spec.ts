// The real module in the app's own test runner: MesaModule against the Redis that REDIS_URL names (the outer
// test starts it, with a Mesa server whose user `u1` must receive what this dispatches).
import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import { DispatcherService, Message, MesaModule } from 'nestjs-mesa';

it('MesaModule dispatches through Redis to a Mesa server', async () => {
  const moduleRef = await Test.createTestingModule({
    imports: [MesaModule.forRoot({ url: process.env.REDIS_URL!, namespace: process.env.MESA_NAMESPACE })],
  }).compile();
  await moduleRef.init();
  try {
    const result = await moduleRef.get(DispatcherService).dispatch(new Message(0, { from: process.env.APP_NAME }, 'CONSUMER'), ['u1']);
    expect(result).toEqual({ recipients: ['u1'], publishedTo: ['u1'], storedFor: [], receivers: 1 });
  } finally {
    await moduleRef.close();
  }
});
